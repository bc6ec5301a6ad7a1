#!/usr/bin/env python3
"""A synthetic WordPress export (WXR 1.2) for the import benchmark.

    scripts/wxr-corpus.py OUT.xml [POSTS] [COMMENTS]

Writes a site of POSTS posts (10,000 by default) with COMMENTS reader comments
(100,000), threaded as readers thread them (about a third are replies to an
earlier comment of the same post), as WordPress's exporter writes it: authors,
a category tree and tags first, then the items, each post with its terms,
metadata and comments. Posts are 300-500 words of classic HTML in paragraphs,
with links, emphasis, and every twentieth a captioned image. Comment states:
mostly approved, some pending, spam and trash. Deterministic (fixed seed).
"""
import random
import sys
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

WORDS = (
    "the harbour council ferry night trial boat island quay passengers winter storm report minister "
    "said would could town village school road bridge water fishing market price budget vote election "
    "people year week month morning evening local national news story reader letter opinion police "
    "court hospital doctor nurse teacher family children house street station train bus service late "
    "early new old first last because however meanwhile although residents officials spokesperson "
    "plan project money tax fund workers union strike agreement talks government party leader"
).split()


def cdata(text):
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def sentence(rng, n):
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph(rng):
    text = " ".join(sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(3, 5)))
    if rng.random() < 0.3:
        w = rng.choice(WORDS)
        text = text.replace(f" {w} ", f' <a href="https://example.org/{w}">{w}</a> ', 1)
    if rng.random() < 0.3:
        w = rng.choice(WORDS)
        text = text.replace(f" {w} ", f" <em>{w}</em> ", 1)
    return text


def main():
    out = sys.argv[1]
    posts = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    comments = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    rng = random.Random(20261204)
    start = datetime(2016, 1, 1, 8, 0, 0)
    site = "https://old-gazette.example"
    with open(out, "w", encoding="utf-8") as f:
        w = f.write
        w('<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
          'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
          'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
          'xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n')
        w(f"<title>The Old Gazette</title>\n<link>{site}</link>\n<description>Synthetic</description>\n"
          f"<language>en-GB</language>\n<wp:wxr_version>1.2</wp:wxr_version>\n"
          f"<wp:base_site_url>{site}</wp:base_site_url>\n<wp:base_blog_url>{site}</wp:base_blog_url>\n")
        authors = [f"reporter{i}" for i in range(1, 9)]
        for i, login in enumerate(authors, 1):
            w(f"<wp:author><wp:author_id>{i}</wp:author_id><wp:author_login>{cdata(login)}</wp:author_login>"
              f"<wp:author_email>{cdata(login + '@old-gazette.example')}</wp:author_email>"
              f"<wp:author_display_name>{cdata('Reporter ' + str(i))}</wp:author_display_name>"
              f"<wp:author_first_name>{cdata('')}</wp:author_first_name>"
              f"<wp:author_last_name>{cdata('')}</wp:author_last_name></wp:author>\n")
        sections = ["news", "sport", "business", "culture", "opinion"]
        categories = []
        term_id = 1
        for s in sections:
            categories.append((term_id, s, ""))
            term_id += 1
            for sub in ("local", "national", "world"):
                categories.append((term_id, f"{s}-{sub}", s))
                term_id += 1
        for tid, slug, parent in categories:
            w(f"<wp:category><wp:term_id>{tid}</wp:term_id><wp:category_nicename>{cdata(slug)}"
              f"</wp:category_nicename><wp:category_parent>{cdata(parent)}</wp:category_parent>"
              f"<wp:cat_name>{cdata(slug.replace('-', ' ').title())}</wp:cat_name></wp:category>\n")
        tags = sorted({f"{a}-{b}" for a in WORDS[:30] for b in WORDS[30:50]})[:300]
        for slug in tags:
            w(f"<wp:tag><wp:term_id>{term_id}</wp:term_id><wp:tag_slug>{cdata(slug)}</wp:tag_slug>"
              f"<wp:tag_name>{cdata(slug.replace('-', ' '))}</wp:tag_name></wp:tag>\n")
            term_id += 1

        comment_id = 0
        per_post = [0] * posts
        for _ in range(comments):
            per_post[rng.randrange(posts)] += 1
        for n in range(posts):
            post_id = 100 + n
            at = start + timedelta(minutes=53 * n)
            title = sentence(rng, rng.randint(5, 10))[:-1]
            slug = f"{'-'.join(title.lower().split()[:6])}-{post_id}"
            body = []
            words = 0
            while words < rng.randint(300, 500):
                p = paragraph(rng)
                words += len(p.split())
                body.append(p)
            if n % 20 == 0:
                body.insert(1, f'[caption id="" align="aligncenter" width="640"]<img src="{site}/wp-content/uploads/'
                               f'{at:%Y/%m}/photo-{post_id}.jpg" alt="A photo" width="640" height="427" /> '
                               f'{sentence(rng, 8)}[/caption]')
            content = "\n\n".join(body)
            category = rng.choice(categories)
            w("<item>\n")
            w(f"<title>{escape(title)}</title>\n<link>{site}/{at:%Y/%m/%d}/{slug}/</link>\n")
            w(f"<pubDate>{at:%a, %d %b %Y %H:%M:%S} +0000</pubDate>\n")
            w(f"<dc:creator>{cdata(rng.choice(authors))}</dc:creator>\n")
            w(f'<guid isPermaLink="false">{site}/?p={post_id}</guid>\n<description></description>\n')
            w(f"<content:encoded>{cdata(content)}</content:encoded>\n")
            w(f"<excerpt:encoded>{cdata(sentence(rng, 20))}</excerpt:encoded>\n")
            w(f"<wp:post_id>{post_id}</wp:post_id>\n")
            w(f"<wp:post_date>{cdata(at.strftime('%Y-%m-%d %H:%M:%S'))}</wp:post_date>\n")
            w(f"<wp:post_date_gmt>{cdata(at.strftime('%Y-%m-%d %H:%M:%S'))}</wp:post_date_gmt>\n")
            w(f"<wp:comment_status>{cdata('open')}</wp:comment_status><wp:ping_status>{cdata('open')}</wp:ping_status>\n")
            w(f"<wp:post_name>{cdata(slug)}</wp:post_name>\n")
            w(f"<wp:status>{cdata('publish' if n % 50 else 'draft')}</wp:status>\n")
            w("<wp:post_parent>0</wp:post_parent><wp:menu_order>0</wp:menu_order>\n")
            w(f"<wp:post_type>{cdata('post')}</wp:post_type><wp:post_password>{cdata('')}</wp:post_password>\n")
            w("<wp:is_sticky>0</wp:is_sticky>\n")
            w(f'<category domain="category" nicename="{category[1]}">{cdata(category[1])}</category>\n')
            for tag in rng.sample(tags, 3):
                w(f'<category domain="post_tag" nicename="{tag}">{cdata(tag)}</category>\n')
            w(f"<wp:postmeta><wp:meta_key>{cdata('_edit_last')}</wp:meta_key>"
              f"<wp:meta_value>{cdata('1')}</wp:meta_value></wp:postmeta>\n")
            earlier = []
            for c in range(per_post[n]):
                comment_id += 1
                parent = rng.choice(earlier) if earlier and rng.random() < 0.35 else 0
                earlier.append(comment_id)
                cat = at + timedelta(minutes=7 * (c + 1))
                state = rng.choices(["1", "0", "spam", "trash"], [90, 5, 4, 1])[0]
                text = "\n\n".join(paragraph(rng)[: rng.randint(80, 400)] for _ in range(rng.randint(1, 2)))
                w(f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
                  f"<wp:comment_author>{cdata('Reader ' + str(rng.randrange(20000)))}</wp:comment_author>"
                  f"<wp:comment_author_email>{cdata('reader' + str(rng.randrange(20000)) + '@example.com')}"
                  f"</wp:comment_author_email><wp:comment_author_url>{cdata('')}</wp:comment_author_url>"
                  f"<wp:comment_author_IP>{cdata('203.0.113.' + str(rng.randrange(1, 255)))}</wp:comment_author_IP>"
                  f"<wp:comment_date>{cdata(cat.strftime('%Y-%m-%d %H:%M:%S'))}</wp:comment_date>"
                  f"<wp:comment_date_gmt>{cdata(cat.strftime('%Y-%m-%d %H:%M:%S'))}</wp:comment_date_gmt>"
                  f"<wp:comment_content>{cdata(text)}</wp:comment_content>"
                  f"<wp:comment_approved>{cdata(state)}</wp:comment_approved>"
                  f"<wp:comment_type>{cdata('comment')}</wp:comment_type>"
                  f"<wp:comment_parent>{parent}</wp:comment_parent><wp:comment_user_id>0</wp:comment_user_id>"
                  "</wp:comment>\n")
            w("</item>\n")
        w("</channel>\n</rss>\n")


if __name__ == "__main__":
    main()
