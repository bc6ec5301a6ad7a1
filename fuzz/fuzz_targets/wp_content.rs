//! WordPress post content (HTML, blocks, shortcodes) to Markdown and on to the
//! page: never a panic, and nothing executable survives to the page (checked
//! on the parsed result: no script-like element, no event-handler attribute,
//! no `javascript:` address).
#![no_main]

use std::rc::Rc;

use broadsheet::domain::markdown;
use broadsheet::import::content::{self, Attachments, Picture};
use html5ever::tendril::TendrilSink;
use libfuzzer_sys::fuzz_target;
use markup5ever_rcdom::{Node, NodeData, RcDom};

struct Library(Picture);

impl Attachments for Library {
    fn by_id(&self, id: i64) -> Option<&Picture> {
        (id % 2 == 0).then_some(&self.0)
    }
    fn of_post(&self, _: i64) -> Vec<&Picture> {
        vec![&self.0]
    }
    fn rewrite(&self, url: &str) -> Option<String> {
        url.contains("uploads").then(|| "/media/a.jpg".to_owned())
    }
}

fn assert_inert(node: &Rc<Node>) {
    if let NodeData::Element { name, attrs, .. } = &node.data {
        let tag: String = name.local.to_string().to_ascii_lowercase();
        assert!(!["script", "iframe", "object", "embed", "style", "form"].contains(&&*tag), "<{tag}>");
        for a in attrs.borrow().iter() {
            let key: String = a.name.local.to_string().to_ascii_lowercase();
            assert!(!key.starts_with("on"), "{key}=");
            let value: String = a.value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
            if ["href", "src"].contains(&&*key) {
                assert!(!value.to_ascii_lowercase().starts_with("javascript:"), "{key}={value}");
            }
        }
    }
    for child in node.children.borrow().iter() {
        assert_inert(child);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let library =
        Library(Picture { src: "/media/a.jpg".into(), alt: "a \"quoted\" <alt>".into(), caption: "c & d".into() });
    let converted = content::convert(text, 2, &library);
    let html = markdown::render(&converted.markdown);
    let dom = html5ever::parse_fragment(
        RcDom::default(),
        Default::default(),
        html5ever::QualName::new(None, html5ever::ns!(html), html5ever::local_name!("body")),
        Vec::new(),
        false,
    )
    .one(html);
    assert_inert(&dom.document);
    let comment = content::comment_markdown(text);
    let _ = broadsheet::domain::comment::render_body(&comment);
});
