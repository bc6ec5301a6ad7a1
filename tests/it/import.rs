//! Reading WordPress's own theme unit test export (`../shared/datasets/
//! wordpress/themeunittestdata.wordpress.xml`) as a stream, checked against
//! a second, independent reading of the whole file with roxmltree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use broadsheet::import::wxr::{TermKind, WxrItem, WxrReader, count};

fn export() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/wordpress/themeunittestdata.wordpress.xml")
}

#[test]
fn the_theme_unit_test_export_reads_whole() {
    let text = std::fs::read_to_string(export()).expect("the WordPress export in ../shared/datasets");
    let doc = roxmltree::Document::parse(&text).expect("well-formed");
    let channel = doc.root_element().children().find(|n| n.has_tag_name("channel")).expect("channel");
    // Whatever address the file gives WordPress's namespace (http or https).
    let wp = doc.root_element().lookup_namespace_uri(Some("wp")).expect("the wp namespace");
    let child = |node: roxmltree::Node, ns: &str, name: &str| {
        node.children().find(|c| c.has_tag_name((ns, name))).and_then(|c| c.text()).unwrap_or_default().to_owned()
    };
    let kids = |name: &str| channel.children().filter(|c| c.has_tag_name((wp, name))).count();
    let items: Vec<roxmltree::Node> = channel.children().filter(|c| c.has_tag_name("item")).collect();
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    // post id -> (comment id, parent id) in order
    let mut threads: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for item in &items {
        *types.entry(child(*item, wp, "post_type")).or_default() += 1;
        let id: i64 = child(*item, wp, "post_id").parse().expect("post id");
        for comment in item.children().filter(|c| c.has_tag_name((wp, "comment"))) {
            *states.entry(child(comment, wp, "comment_approved")).or_default() += 1;
            let parse = |name| child(comment, wp, name).parse::<i64>().unwrap_or(0);
            threads.entry(id).or_default().push((parse("comment_id"), parse("comment_parent")));
        }
    }

    let (site, counts) =
        count(std::fs::File::open(export()).map(std::io::BufReader::new).expect("open")).expect("read");
    assert_eq!(site.title, "Theme Unit Test Data");
    assert_eq!(site.base_blog_url, "https://wpthemetestdata.wordpress.com");
    assert_eq!(counts.authors, kids("author"));
    assert_eq!(counts.categories, kids("category"));
    assert_eq!(counts.tags, kids("tag"));
    assert_eq!(counts.other_terms, kids("term"));
    assert_eq!(counts.posts, types);
    assert_eq!(counts.comments, states);
    assert!(counts.posts["post"] > 30 && counts.posts["page"] > 10 && counts.comments.values().sum::<usize>() > 20);

    // Item by item: the same posts, in order, with the same comment threads,
    // terms and metadata.
    let mut reader = WxrReader::new(text.as_bytes());
    let mut n = 0;
    let mut seen_threads: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    let mut categories_with_parents = 0;
    while let Some(item) = reader.next().expect("read") {
        match item {
            WxrItem::Post(post) => {
                let node = items[n];
                assert_eq!(post.id.to_string(), child(node, wp, "post_id"));
                let title = node.children().find(|c| c.has_tag_name("title")).and_then(|c| c.text());
                assert_eq!(post.title, title.unwrap_or_default());
                assert_eq!(post.content, child(node, "http://purl.org/rss/1.0/modules/content/", "encoded"));
                assert_eq!(post.slug, child(node, wp, "post_name"));
                assert_eq!(post.terms.len(), node.children().filter(|c| c.has_tag_name("category")).count());
                assert_eq!(post.meta.len(), node.children().filter(|c| c.has_tag_name((wp, "postmeta"))).count());
                if !post.comments.is_empty() {
                    seen_threads.insert(post.id, post.comments.iter().map(|c| (c.id, c.parent)).collect());
                }
                n += 1;
            }
            WxrItem::Term(term) if term.kind == TermKind::Category && !term.parent.is_empty() => {
                categories_with_parents += 1;
            }
            _ => {}
        }
    }
    assert_eq!(n, items.len());
    assert_eq!(seen_threads, threads);
    assert!(seen_threads.values().flatten().any(|(_, parent)| *parent != 0), "threads have replies");
    assert!(categories_with_parents > 0, "the category tree is kept");
}
