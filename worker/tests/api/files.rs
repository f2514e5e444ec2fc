//! Reading generated files the way their readers do: a PDF's pages, text, drawing
//! operators and embedded fonts (lopdf); an xlsx's parts and number formats (zip).

use std::io::{Cursor, Read};

/// A PDF as a reader sees it: its pages, its text and what its pages draw.
pub(crate) struct Pdf(lopdf::Document);

impl Pdf {
    pub(crate) fn open(bytes: &[u8]) -> Self {
        Self(lopdf::Document::load_mem(bytes).expect("a valid PDF"))
    }

    pub(crate) fn pages(&self) -> usize {
        self.0.get_pages().len()
    }

    /// The text of every page.
    pub(crate) fn text(&self) -> String {
        let pages: Vec<u32> = self.0.get_pages().keys().copied().collect();
        self.0.extract_text(&pages).expect("text")
    }

    /// How often each drawing operator occurs on page `number` (1-based).
    pub(crate) fn operators(&self, number: u32) -> std::collections::BTreeMap<String, usize> {
        let id = self.0.get_pages()[&number];
        let content = self.0.get_and_decode_page_content(id).expect("content");
        let mut counts = std::collections::BTreeMap::new();
        for operation in content.operations {
            *counts.entry(operation.operator).or_insert(0) += 1;
        }
        counts
    }

    /// The base names of the fonts embedded as TrueType programs (`FontFile2`).
    pub(crate) fn embedded_fonts(&self) -> Vec<String> {
        let mut names = Vec::new();
        for object in self.0.objects.values() {
            let Ok(dict) = object.as_dict() else { continue };
            if dict.has(b"FontFile2") {
                if let Ok(name) = dict.get(b"FontName").and_then(|n| n.as_name()) {
                    names.push(String::from_utf8_lossy(name).into_owned());
                }
            }
        }
        names
    }
}

/// A part of an xlsx file (a zip), as text.
pub(crate) fn xlsx_part(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let mut part = archive.by_name(name).expect("the part");
    let mut text = String::new();
    part.read_to_string(&mut text).expect("utf8");
    text
}

/// The value of `attribute` in an XML start tag.
pub(crate) fn attribute<'a>(tag: &'a str, attribute: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {attribute}=\""))? + attribute.len() + 3;
    tag[start..].split('"').next()
}

/// The number format code of cell `cell` of `sheet` (`xl/worksheets/sheet2.xml`): the
/// cell's style index → `cellXfs` → `numFmtId` → `numFmts`.
pub(crate) fn number_format(bytes: &[u8], sheet: &str, cell: &str) -> String {
    let sheet = xlsx_part(bytes, sheet);
    let styles = xlsx_part(bytes, "xl/styles.xml");
    let tag_start = sheet
        .find(&format!("<c r=\"{cell}\""))
        .unwrap_or_else(|| panic!("no cell {cell}"));
    let tag = &sheet[tag_start..tag_start + sheet[tag_start..].find('>').expect("tag end")];
    let style: usize = attribute(tag, "s").unwrap_or("0").parse().expect("index");
    let xfs_start = styles.find("<cellXfs").expect("cellXfs");
    let xfs = &styles[xfs_start..styles.find("</cellXfs>").expect("cellXfs end")];
    let xf = xfs.split("<xf ").nth(style + 1).expect("the cell's xf");
    let id = attribute(&format!(" {xf}"), "numFmtId")
        .expect("numFmtId")
        .to_owned();
    styles
        .split("<numFmt ")
        .skip(1)
        .find(|f| attribute(&format!(" {f}"), "numFmtId") == Some(id.as_str()))
        .and_then(|f| attribute(&format!(" {f}"), "formatCode").map(str::to_owned))
        .unwrap_or_else(|| format!("builtin {id}"))
        .replace("&quot;", "\"")
}
