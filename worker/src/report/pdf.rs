//! PDF: a small, dependency-free PDF 1.4 writer with the standard Helvetica fonts (no
//! embedding needed), enough for a report: a title, the date range, a totals table and
//! the daily values table over as many A4 pages as it takes, with page numbers.
//!
//! Text is encoded as WinAnsi (Latin-1 plus typographic dashes and quotes); other
//! characters become `?`. The content streams are plain (uncompressed) ASCII.

use std::fmt::Write as _;

use super::{format_change, format_value, Report};

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 50.0;
const ROW: f32 = 16.0;

/// Widths of Helvetica's characters 32..=126, in 1/1000 em (from the standard AFM).
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' '..'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    278, 278, 584, 584, 584, 556, 1015, // :;<=>?@
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667,
    611, 722, 667, 944, 667, 667, 611, // A-Z
    278, 278, 278, 469, 556, 333, // [\]^_`
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
    278, 556, 500, 722, 500, 500, 500, // a-z
    334, 260, 334, 584, // {|}~
];

/// Regular or bold Helvetica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn name(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }
}

/// The width of `text` at `size` points (bold is approximated as 7 % wider).
fn text_width(text: &str, size: f32, font: Font) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| {
            let code = c as u32;
            if (32..=126).contains(&code) {
                u32::from(HELVETICA_WIDTHS[(code - 32) as usize])
            } else {
                556
            }
        })
        .sum();
    let width = units as f32 * size / 1000.0;
    match font {
        Font::Regular => width,
        Font::Bold => width * 1.07,
    }
}

/// `text` as a PDF literal string in WinAnsiEncoding, ASCII only (octal escapes).
fn pdf_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('(');
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {
                let code = match c {
                    '\u{a0}'..='\u{ff}' => c as u32,
                    '\u{2013}' => 0x96, // en dash
                    '\u{2014}' => 0x97, // em dash
                    '\u{2018}' => 0x91,
                    '\u{2019}' => 0x92,
                    '\u{201c}' => 0x93,
                    '\u{201d}' => 0x94,
                    '\u{2022}' => 0x95, // bullet
                    '\u{2026}' => 0x85, // ellipsis
                    '\u{20ac}' => 0x80, // euro
                    _ => u32::from(b'?'),
                };
                let _ = write!(out, "\\{code:03o}");
            }
        }
    }
    out.push(')');
    out
}

/// Pages being laid out top to bottom.
struct Layout {
    pages: Vec<String>,
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Self {
            pages: vec![String::new()],
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    fn page(&mut self) -> &mut String {
        if self.pages.is_empty() {
            self.pages.push(String::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(String::new());
        self.y = PAGE_HEIGHT - MARGIN;
    }

    /// Room for `height` more points above the bottom margin (and the footer)?
    fn fits(&self, height: f32) -> bool {
        self.y - height >= MARGIN + 20.0
    }

    fn text(&mut self, x: f32, y: f32, text: &str, size: f32, font: Font, gray: f32) {
        let op = format!(
            "BT {gray:.2} g /{} {size:.1} Tf {x:.2} {y:.2} Td {} Tj ET 0 g\n",
            font.name(),
            pdf_string(text)
        );
        self.page().push_str(&op);
    }

    fn text_right(&mut self, right: f32, y: f32, text: &str, size: f32, font: Font) {
        let x = right - text_width(text, size, font);
        self.text(x, y, text, size, font, 0.0);
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, gray: f32, width: f32) {
        let op = format!("{gray:.2} G {width:.2} w {x1:.2} {y1:.2} m {x2:.2} {y2:.2} l S 0 G\n");
        self.page().push_str(&op);
    }

    /// A line of text at the cursor, moving it down.
    fn paragraph(&mut self, text: &str, size: f32, font: Font, gray: f32) {
        let height = size * 1.4;
        if !self.fits(height) {
            self.new_page();
        }
        self.y -= size;
        let y = self.y;
        self.text(MARGIN, y, text, size, font, gray);
        self.y -= size * 0.4;
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }
}

/// A table column: header, width, right-aligned or not.
struct Column {
    header: String,
    width: f32,
    right: bool,
}

/// Draws `rows` under a header row, continuing on new pages (header repeated).
fn table(layout: &mut Layout, columns: &[Column], rows: &[Vec<String>], continued: &str) {
    let size = 9.5;
    let draw_header = |layout: &mut Layout| {
        layout.y -= ROW;
        let y = layout.y + 4.0;
        let mut x = MARGIN;
        for column in columns {
            if column.right {
                layout.text_right(x + column.width - 4.0, y, &column.header, size, Font::Bold);
            } else {
                layout.text(x + 4.0, y, &column.header, size, Font::Bold, 0.0);
            }
            x += column.width;
        }
        let total: f32 = columns.iter().map(|c| c.width).sum();
        let line_y = layout.y;
        layout.line(MARGIN, line_y, MARGIN + total, line_y, 0.2, 0.8);
    };
    if !layout.fits(ROW * 3.0) {
        layout.new_page();
    }
    draw_header(layout);
    let total: f32 = columns.iter().map(|c| c.width).sum();
    for (i, row) in rows.iter().enumerate() {
        if !layout.fits(ROW) {
            layout.new_page();
            layout.paragraph(continued, 11.0, Font::Bold, 0.0);
            draw_header(layout);
        }
        layout.y -= ROW;
        let y = layout.y + 4.0;
        let mut x = MARGIN;
        for (column, cell) in columns.iter().zip(row) {
            if column.right {
                layout.text_right(x + column.width - 4.0, y, cell, size, Font::Regular);
            } else {
                layout.text(x + 4.0, y, cell, size, Font::Regular, 0.0);
            }
            x += column.width;
        }
        if i + 1 < rows.len() {
            let line_y = layout.y;
            layout.line(MARGIN, line_y, MARGIN + total, line_y, 0.85, 0.4);
        }
    }
    let line_y = layout.y;
    layout.line(MARGIN, line_y, MARGIN + total, line_y, 0.2, 0.8);
}

/// The report as a PDF file.
pub fn render(report: &Report) -> Vec<u8> {
    let mut layout = Layout::new();
    layout.paragraph(&report.title, 20.0, Font::Bold, 0.0);
    layout.gap(4.0);
    layout.paragraph(
        &format!(
            "Date range: {} to {} ({} days)",
            report.range.start.format("%Y-%m-%d"),
            report.range.end.format("%Y-%m-%d"),
            report.range.days()
        ),
        11.0,
        Font::Regular,
        0.0,
    );
    layout.paragraph(&super::zone_line(report), 9.0, Font::Regular, 0.4);
    layout.gap(14.0);

    layout.paragraph("Totals", 13.0, Font::Bold, 0.0);
    let totals_columns = [
        Column {
            header: "Metric".into(),
            width: 180.0,
            right: false,
        },
        Column {
            header: "Total".into(),
            width: 120.0,
            right: true,
        },
        Column {
            header: "Change".into(),
            width: 100.0,
            right: true,
        },
        Column {
            header: "Trend".into(),
            width: 95.0,
            right: false,
        },
    ];
    let totals: Vec<Vec<String>> = report
        .series
        .iter()
        .map(|(metric, series)| {
            vec![
                metric.label().to_owned(),
                format_value(*metric, series.total),
                format_change(series.change),
                series.trend.label().to_owned(),
            ]
        })
        .collect();
    table(&mut layout, &totals_columns, &totals, "Totals (continued)");
    layout.gap(22.0);

    layout.paragraph("Daily values", 13.0, Font::Bold, 0.0);
    let content_width = PAGE_WIDTH - 2.0 * MARGIN;
    let date_width = 90.0;
    let metric_width = if report.series.is_empty() {
        0.0
    } else {
        ((content_width - date_width) / report.series.len() as f32).min(130.0)
    };
    let mut daily_columns = vec![Column {
        header: "Date".into(),
        width: date_width,
        right: false,
    }];
    daily_columns.extend(report.series.iter().map(|(metric, _)| Column {
        header: metric.label().to_owned(),
        width: metric_width,
        right: true,
    }));
    let daily: Vec<Vec<String>> = report
        .dates()
        .into_iter()
        .map(|date| {
            let mut row = vec![date.format("%Y-%m-%d").to_string()];
            for (index, (metric, _)) in report.series.iter().enumerate() {
                row.push(
                    report
                        .value(index, date)
                        .map(|value| format_value(*metric, value))
                        .unwrap_or_default(),
                );
            }
            row
        })
        .collect();
    table(
        &mut layout,
        &daily_columns,
        &daily,
        "Daily values (continued)",
    );

    // Footers, now that the page count is known.
    let count = layout.pages.len();
    for (i, page) in layout.pages.iter_mut().enumerate() {
        let footer = format!("{} - page {} of {count}", report.title, i + 1);
        let _ = writeln!(
            page,
            "BT 0.50 g /F1 8.0 Tf {MARGIN:.2} {:.2} Td {} Tj ET 0 g",
            MARGIN - 20.0,
            pdf_string(&footer)
        );
    }
    write_document(&layout.pages, &report.title, report.generated_at)
}

/// Serializes pages (content streams) into a complete PDF file.
fn write_document(
    pages: &[String],
    title: &str,
    created: chrono::DateTime<chrono::Utc>,
) -> Vec<u8> {
    // Objects: 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, 5 info, then for each
    // page i: 6 + 2i the page, 7 + 2i its content stream.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 6 + 2 * i))
        .collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    objects.push(
        format!(
            "<< /Title {} /Producer (Taskdeck worker) /CreationDate (D:{}Z) >>",
            pdf_string(title),
            created.format("%Y%m%d%H%M%S")
        )
        .into_bytes(),
    );
    for (i, content) in pages.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                7 + 2 * i
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }

    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_win_ansi() {
        assert_eq!(pdf_string("a (b) \\ c"), "(a \\(b\\) \\\\ c)");
        assert_eq!(pdf_string("café – €"), "(caf\\351 \\226 \\200)");
        assert_eq!(pdf_string("日本"), "(\\077\\077)");
    }

    #[test]
    fn digits_have_one_width() {
        assert_eq!(text_width("0123456789", 10.0, Font::Regular), 55.6);
        assert!(text_width("W", 10.0, Font::Regular) > text_width("i", 10.0, Font::Regular));
    }

    #[test]
    fn the_file_is_well_formed() {
        let bytes = render(&super::super::tests::sample());
        assert!(bytes.starts_with(b"%PDF-1.4"));
        assert!(bytes.ends_with(b"%%EOF\n"));
        // The xref offsets point at the objects (offsets are in bytes).
        let tail = String::from_utf8(bytes[bytes.len() - 40..].to_vec()).expect("ascii tail");
        let start: usize = tail
            .rsplit("startxref\n")
            .next()
            .and_then(|rest| rest.lines().next())
            .and_then(|n| n.parse().ok())
            .expect("startxref");
        let xref = String::from_utf8(bytes[start..].to_vec()).expect("ascii xref");
        assert!(xref.starts_with("xref"));
        for (i, entry) in xref.lines().skip(3).take(5).enumerate() {
            let offset: usize = entry[..10].parse().expect("offset");
            assert!(bytes[offset..].starts_with(format!("{} 0 obj", i + 1).as_bytes()));
        }
    }

    #[test]
    fn long_ranges_span_pages() {
        let mut report = super::super::tests::sample();
        let start = report.range.start;
        for (_, series) in &mut report.series {
            series.data_points = (0..120)
                .map(|i| domain::DataPoint {
                    date: start + chrono::Days::new(i),
                    value: i as f64,
                })
                .collect();
        }
        let text = String::from_utf8_lossy(&render(&report)).into_owned();
        assert!(
            text.contains("/Count 3") || text.contains("/Count 4"),
            "pages"
        );
        assert!(text.contains("(Daily values \\(continued\\))"));
    }
}
