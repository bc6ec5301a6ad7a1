<?php
/**
 * Plugin Name:       Broadsheet spam filter for Akismet
 * Description:       Sends the Akismet plugin's calls to your own Broadsheet server instead of Akismet's, so that readers' comments stay with a server you run and the filter learns from your moderators. The Akismet plugin itself is used unchanged.
 * Version:           1.0.0
 * Requires at least: 6.0
 * Requires PHP:      7.4
 * Author:            Broadsheet
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 *
 * Set the server's address here, under Settings › Broadsheet spam filter,
 * or in wp-config.php (which then wins):
 *
 *     define( 'BROADSHEET_AKISMET_URL', 'https://news.example.org' );
 *
 * then enter the key made on that server (`broadsheet apikey create --site
 * <this site's address>`, or its admin's Spam API page) in Akismet's own
 * settings. With no address set, this plugin does nothing.
 *
 * This program is free software: you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the Free
 * Software Foundation, either version 2 of the License, or (at your option)
 * any later version.
 */

defined( 'ABSPATH' ) || exit;

const BROADSHEET_AKISMET_OPTION = 'broadsheet_akismet_url';

/**
 * The Broadsheet server's address, without a trailing slash; '' when none is set.
 */
function broadsheet_akismet_server() {
	$url = defined( 'BROADSHEET_AKISMET_URL' ) ? constant( 'BROADSHEET_AKISMET_URL' ) : get_option( BROADSHEET_AKISMET_OPTION, '' );
	return untrailingslashit( trim( (string) $url ) );
}

/**
 * Whether a request is meant for Akismet's API: its address is
 * rest.akismet.com (or KEY.rest.akismet.com, as older code writes it), or
 * the plugin calls one of that host's addresses with the host in a header.
 */
function broadsheet_akismet_is_api_call( $url, $args ) {
	$hosts = array( strtolower( (string) wp_parse_url( $url, PHP_URL_HOST ) ) );
	if ( ! empty( $args['headers'] ) && is_array( $args['headers'] ) ) {
		foreach ( $args['headers'] as $name => $value ) {
			if ( 'host' === strtolower( (string) $name ) ) {
				$hosts[] = strtolower( trim( (string) $value ) );
			}
		}
	}
	foreach ( $hosts as $host ) {
		if ( 'rest.akismet.com' === $host || '.rest.akismet.com' === substr( $host, -17 ) ) {
			return true;
		}
	}
	return false;
}

/**
 * Answers a call to Akismet's API with the Broadsheet server's answer to the
 * same call: the same method, path, parameters, headers and body.
 */
function broadsheet_akismet_redirect( $preempt, $args, $url ) {
	if ( false !== $preempt ) {
		return $preempt;
	}
	$server = broadsheet_akismet_server();
	if ( '' === $server || ! broadsheet_akismet_is_api_call( $url, $args ) ) {
		return $preempt;
	}
	$path  = (string) wp_parse_url( $url, PHP_URL_PATH );
	$query = (string) wp_parse_url( $url, PHP_URL_QUERY );
	$target = $server . $path . ( '' !== $query ? '?' . $query : '' );
	if ( ! empty( $args['headers'] ) && is_array( $args['headers'] ) ) {
		foreach ( array_keys( $args['headers'] ) as $name ) {
			if ( 'host' === strtolower( (string) $name ) ) {
				unset( $args['headers'][ $name ] );
			}
		}
	}
	return wp_remote_request( $target, $args );
}
add_filter( 'pre_http_request', 'broadsheet_akismet_redirect', 10, 3 );

/**
 * Akismet's settings page embeds charts from tools.akismet.com, with the
 * site's address and key in the frame's address. Those charts know nothing
 * of this server's figures (the page's own numbers come from it), and the
 * key should not travel there: the frames are left empty instead.
 */
function broadsheet_akismet_no_remote_charts( $url ) {
	if ( '' !== broadsheet_akismet_server() && 0 === strpos( (string) $url, 'https://tools.akismet.com/' ) ) {
		return 'about:blank';
	}
	return $url;
}
add_filter( 'clean_url', 'broadsheet_akismet_no_remote_charts' );

/**
 * A server address as the settings form accepts it: http(s), a host, no
 * query; anything else is refused with a message and the old value kept.
 */
function broadsheet_akismet_sanitize( $value ) {
	$value = untrailingslashit( trim( (string) $value ) );
	if ( '' === $value ) {
		return '';
	}
	$scheme = wp_parse_url( $value, PHP_URL_SCHEME );
	$host   = wp_parse_url( $value, PHP_URL_HOST );
	if ( ! in_array( $scheme, array( 'http', 'https' ), true ) || empty( $host ) || false !== strpos( $value, '?' ) ) {
		add_settings_error(
			BROADSHEET_AKISMET_OPTION,
			'broadsheet-akismet-url',
			__( 'The Broadsheet server\'s address starts with https:// (or http://) and names its host, for example https://news.example.org.', 'broadsheet-akismet-bridge' )
		);
		return get_option( BROADSHEET_AKISMET_OPTION, '' );
	}
	return esc_url_raw( $value, array( 'http', 'https' ) );
}

function broadsheet_akismet_settings() {
	register_setting(
		'broadsheet_akismet',
		BROADSHEET_AKISMET_OPTION,
		array(
			'type'              => 'string',
			'sanitize_callback' => 'broadsheet_akismet_sanitize',
			'default'           => '',
		)
	);
}
add_action( 'admin_init', 'broadsheet_akismet_settings' );

function broadsheet_akismet_menu() {
	add_options_page(
		__( 'Broadsheet spam filter', 'broadsheet-akismet-bridge' ),
		__( 'Broadsheet spam filter', 'broadsheet-akismet-bridge' ),
		'manage_options',
		'broadsheet-akismet-bridge',
		'broadsheet_akismet_page'
	);
}
add_action( 'admin_menu', 'broadsheet_akismet_menu' );

/**
 * The settings page: the server's address, and whether it answers.
 */
function broadsheet_akismet_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	$server = broadsheet_akismet_server();
	$status = '';
	if ( '' !== $server ) {
		$response = wp_remote_get( $server . '/1.1/test', array( 'timeout' => 5 ) );
		if ( is_wp_error( $response ) ) {
			/* translators: %s: the error */
			$status = sprintf( __( 'The server does not answer: %s', 'broadsheet-akismet-bridge' ), $response->get_error_message() );
		} elseif ( 'connected' === trim( wp_remote_retrieve_body( $response ) ) ) {
			$status = __( 'Connected: Akismet\'s calls go to this server.', 'broadsheet-akismet-bridge' );
		} else {
			/* translators: %d: an HTTP status code */
			$status = sprintf( __( 'This address answers, but not as a Broadsheet server (HTTP %d).', 'broadsheet-akismet-bridge' ), (int) wp_remote_retrieve_response_code( $response ) );
		}
	}
	?>
	<div class="wrap">
		<h1><?php esc_html_e( 'Broadsheet spam filter', 'broadsheet-akismet-bridge' ); ?></h1>
		<p><?php esc_html_e( 'The Akismet plugin\'s calls go to this Broadsheet server instead of Akismet\'s. Enter the key made on that server in Akismet\'s settings.', 'broadsheet-akismet-bridge' ); ?></p>
		<?php if ( '' !== $status ) : ?>
			<p id="broadsheet-akismet-status"><strong><?php echo esc_html( $status ); ?></strong></p>
		<?php endif; ?>
		<?php if ( defined( 'BROADSHEET_AKISMET_URL' ) ) : ?>
			<p>
				<?php
				/* translators: %s: the server's address */
				printf( esc_html__( 'The server is set in wp-config.php: %s', 'broadsheet-akismet-bridge' ), '<code>' . esc_html( $server ) . '</code>' );
				?>
			</p>
		<?php else : ?>
			<form method="post" action="options.php">
				<?php settings_fields( 'broadsheet_akismet' ); ?>
				<table class="form-table" role="presentation">
					<tr>
						<th scope="row"><label for="broadsheet-akismet-url"><?php esc_html_e( 'Server address', 'broadsheet-akismet-bridge' ); ?></label></th>
						<td>
							<input name="<?php echo esc_attr( BROADSHEET_AKISMET_OPTION ); ?>" id="broadsheet-akismet-url" type="url" class="regular-text code" value="<?php echo esc_attr( get_option( BROADSHEET_AKISMET_OPTION, '' ) ); ?>" placeholder="https://news.example.org" />
							<p class="description"><?php esc_html_e( 'Leave it empty to use Akismet\'s own servers again.', 'broadsheet-akismet-bridge' ); ?></p>
						</td>
					</tr>
				</table>
				<?php submit_button(); ?>
			</form>
		<?php endif; ?>
	</div>
	<?php
}

/**
 * A link to the settings from the plugin's row in the plugin list.
 */
function broadsheet_akismet_action_links( $links ) {
	$url = admin_url( 'options-general.php?page=broadsheet-akismet-bridge' );
	array_unshift( $links, '<a href="' . esc_url( $url ) . '">' . esc_html__( 'Settings', 'broadsheet-akismet-bridge' ) . '</a>' );
	return $links;
}
add_filter( 'plugin_action_links_' . plugin_basename( __FILE__ ), 'broadsheet_akismet_action_links' );
