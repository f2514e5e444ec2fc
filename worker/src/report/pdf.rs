//! PDF, written with `krilla` in the report's language, with DejaVu Sans embedded (and
//! subset to the glyphs used), so any Latin text — Indonesian included — shows the same in
//! every reader:
//!
//! 1. a title page: the title, the date range, the zone, the generation time on the zone's
//!    clock, the currency, and a table of the totals with their change and trend;
//! 2. one chart of the daily values per metric, two to a page ([`super::pdf_chart`]);
//! 3. the daily values as a table over as many pages as it takes.
//!
//! Every page ends with `page 1 of 4`.

use std::sync::OnceLock;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::Document;
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

use super::{number, pdf_chart, Report};

/// A4, in points.
pub(super) const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
/// Left and right margin.
pub(super) const MARGIN: f32 = 50.0;
/// The lowest baseline of body text; the footer sits below it.
const BOTTOM: f32 = PAGE_HEIGHT - 70.0;
/// Daily table rows.
const ROW: f32 = 14.0;
/// Where the daily table's rows start on its pages.
const TABLE_TOP: f32 = 110.0;
/// Charts on a page.
const CHARTS_PER_PAGE: usize = 2;

const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Text colours and the chart's.
pub(super) const INK: (u8, u8, u8) = (33, 37, 41);
pub(super) const MUTED: (u8, u8, u8) = (108, 117, 125);
pub(super) const RULE: (u8, u8, u8) = (206, 212, 218);
pub(super) const ACCENT: (u8, u8, u8) = (37, 99, 235);

/// A face of the embedded font: krilla's handle to draw with, and the font's character
/// map and advance widths to lay out and measure text with. Reports are single-script
/// Latin text, so a glyph per character, without kerning or ligatures, is enough (and
/// spares a shaping engine).
pub(super) struct Face {
    font: Font,
    charmap: Charmap<'static>,
    /// Advances in em (`Size::unscaled` gives font units; divided once here).
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(data: &'static [u8]) -> Option<Self> {
        let parsed = FontRef::new(data).ok()?;
        let units_per_em = f32::from(
            parsed
                .metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        if units_per_em <= 0.0 {
            return None;
        }
        Some(Self {
            font: Font::new(data.into(), 0)?,
            charmap: parsed.charmap(),
            metrics: parsed.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em,
        })
    }

    /// The glyph of `c` (the font's `.notdef` where it has none) and its advance in em.
    fn glyph(&self, c: char) -> (u32, f32) {
        let id = self.charmap.map(c).unwrap_or(skrifa::GlyphId::NOTDEF);
        let advance = self.metrics.advance_width(id).unwrap_or(0.0);
        (id.to_u32(), advance / self.units_per_em)
    }

    /// The glyphs of `text`, one per character, each covering its character's bytes.
    fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(at, c)| {
                let (id, advance) = self.glyph(c);
                let range = at..at + c.len_utf8();
                KrillaGlyph::new(GlyphId::new(id), advance, 0.0, 0.0, 0.0, range, None)
            })
            .collect()
    }

    /// The width of `text` at `size` points.
    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }
}

/// The two faces, read once per process.
pub(super) struct Fonts {
    pub(super) regular: Face,
    pub(super) bold: Face,
}

fn fonts() -> Result<&'static Fonts, String> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Some(Fonts {
                regular: Face::load(REGULAR_TTF)?,
                bold: Face::load(BOLD_TTF)?,
            })
        })
        .as_ref()
        .ok_or_else(|| "The PDF font could not be read".to_owned())
}

/// A page being drawn: its surface and the fonts.
pub(super) struct Canvas<'a, 'b> {
    pub(super) surface: &'a mut Surface<'b>,
    pub(super) fonts: &'static Fonts,
}

/// How a line of text is placed against its x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Right,
    Center,
}

fn paint((r, g, b): (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

impl Canvas<'_, '_> {
    /// `text` with its baseline at `y`.
    pub(super) fn text(
        &mut self,
        (x, y): (f32, f32),
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        align: Align,
        text: &str,
    ) {
        if text.is_empty() {
            return;
        }
        let face = if bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        };
        let x = match align {
            Align::Left => x,
            Align::Right => x - face.width(text, size),
            Align::Center => x - face.width(text, size) / 2.0,
        };
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(paint(color)));
        let glyphs = face.glyphs(text);
        self.surface.draw_glyphs(
            Point::from_xy(x, y),
            &glyphs,
            face.font.clone(),
            text,
            size,
            false,
        );
    }

    /// A straight line.
    pub(super) fn line(
        &mut self,
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        color: (u8, u8, u8),
    ) {
        self.polyline(&[from, to], width, color);
    }

    /// Connected straight lines through `points`.
    pub(super) fn polyline(&mut self, points: &[(f32, f32)], width: f32, color: (u8, u8, u8)) {
        let mut builder = PathBuilder::new();
        for (i, (x, y)) in points.iter().enumerate() {
            if i == 0 {
                builder.move_to(*x, *y);
            } else {
                builder.line_to(*x, *y);
            }
        }
        if let Some(path) = builder.finish() {
            self.surface.set_fill(None);
            self.surface.set_stroke(Some(Stroke {
                paint: rgb::Color::new(color.0, color.1, color.2).into(),
                width,
                ..Stroke::default()
            }));
            self.surface.draw_path(&path);
            self.surface.set_stroke(None);
        }
    }

    /// A closed shape through `points`, filled with `color` at `opacity`.
    pub(super) fn shape(&mut self, points: &[(f32, f32)], color: (u8, u8, u8), opacity: f32) {
        let mut builder = PathBuilder::new();
        for (i, (x, y)) in points.iter().enumerate() {
            if i == 0 {
                builder.move_to(*x, *y);
            } else {
                builder.line_to(*x, *y);
            }
        }
        builder.close();
        self.fill(builder, color, opacity);
    }

    /// A filled rectangle.
    pub(super) fn rect(&mut self, (x, y, w, h): (f32, f32, f32, f32), color: (u8, u8, u8)) {
        let Some(rect) = Rect::from_xywh(x, y, w.max(0.1), h.max(0.1)) else {
            return;
        };
        let mut builder = PathBuilder::new();
        builder.push_rect(rect);
        self.fill(builder, color, 1.0);
    }

    fn fill(&mut self, builder: PathBuilder, color: (u8, u8, u8), opacity: f32) {
        if let Some(path) = builder.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(Fill {
                opacity: NormalizedF32::new(opacity).unwrap_or(NormalizedF32::ONE),
                ..paint(color)
            }));
            self.surface.draw_path(&path);
        }
    }
}

/// The PDF file.
pub fn render(report: &Report) -> Result<Vec<u8>, String> {
    let fonts = fonts()?;
    let dates = report.dates();
    let rows_per_page = ((BOTTOM - TABLE_TOP) / ROW).floor().max(1.0) as usize;
    let chart_pages = report.series.len().div_ceil(CHARTS_PER_PAGE);
    let table_pages = if report.series.is_empty() {
        0
    } else {
        dates.len().div_ceil(rows_per_page).max(1)
    };
    let pages = 1 + chart_pages + table_pages;

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(report.title.clone())
            .description(report.words().analytics_report.to_owned())
            .language(report.locale.lang.code().to_owned())
            .creator("Taskdeck".to_owned()),
    );
    let settings = || {
        PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| "The PDF page size is invalid".to_owned())
    };
    let mut number = 1;
    {
        let mut page = document.start_page_with(settings()?);
        let mut surface = page.surface();
        let mut canvas = Canvas {
            surface: &mut surface,
            fonts,
        };
        title_page(&mut canvas, report);
        footer(&mut canvas, report, number, pages);
        surface.finish();
        page.finish();
    }
    for chunk in report.series.chunks(CHARTS_PER_PAGE) {
        number += 1;
        let mut page = document.start_page_with(settings()?);
        let mut surface = page.surface();
        let mut canvas = Canvas {
            surface: &mut surface,
            fonts,
        };
        for (slot, (metric, series)) in chunk.iter().enumerate() {
            let top = 60.0 + slot as f32 * 360.0;
            pdf_chart::draw(&mut canvas, report, *metric, series, top);
        }
        footer(&mut canvas, report, number, pages);
        surface.finish();
        page.finish();
    }
    for days in dates.chunks(rows_per_page) {
        number += 1;
        let mut page = document.start_page_with(settings()?);
        let mut surface = page.surface();
        let mut canvas = Canvas {
            surface: &mut surface,
            fonts,
        };
        daily_table(&mut canvas, report, days);
        footer(&mut canvas, report, number, pages);
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|error| format!("The PDF file could not be written: {error:?}"))
}

fn title_page(canvas: &mut Canvas<'_, '_>, report: &Report) {
    let words = report.words();
    let left = MARGIN;
    canvas.text(
        (left, 90.0),
        11.0,
        true,
        ACCENT,
        Align::Left,
        words.analytics_report,
    );
    canvas.text((left, 122.0), 24.0, true, INK, Align::Left, &report.title);
    let mut y = 160.0;
    for line in [
        report.range_line(),
        report.zone_line(),
        report.generated_line(),
        report.currency_line(),
    ] {
        canvas.text((left, y), 11.0, false, MUTED, Align::Left, &line);
        y += 17.0;
    }
    y += 28.0;
    canvas.text((left, y), 15.0, true, INK, Align::Left, words.totals);
    y += 24.0;
    let right = PAGE_WIDTH - MARGIN;
    let columns = [
        (left, Align::Left, words.metric),
        (right - 190.0, Align::Right, words.total),
        (right - 80.0, Align::Right, words.change),
        (right, Align::Right, words.trend),
    ];
    for (x, align, heading) in columns {
        canvas.text((x, y), 10.0, true, MUTED, align, heading);
    }
    canvas.line((left, y + 6.0), (right, y + 6.0), 0.8, RULE);
    y += 24.0;
    for (metric, series) in &report.series {
        let cells = [
            words.metric_name(*metric).to_owned(),
            report.show(*metric, series.total),
            number::change(series.change, report.locale.lang),
            words.trend_name(series.trend).to_owned(),
        ];
        for ((x, align, _), cell) in columns.iter().zip(&cells) {
            canvas.text((*x, y), 12.0, false, INK, *align, cell);
        }
        canvas.line((left, y + 8.0), (right, y + 8.0), 0.4, RULE);
        y += 26.0;
    }
}

fn daily_table(canvas: &mut Canvas<'_, '_>, report: &Report, days: &[chrono::NaiveDate]) {
    let words = report.words();
    let left = MARGIN;
    let right = PAGE_WIDTH - MARGIN;
    canvas.text(
        (left, 70.0),
        15.0,
        true,
        INK,
        Align::Left,
        words.daily_values,
    );
    let columns = report.series.len().max(1) as f32;
    let width = (right - left - 80.0) / columns;
    let size = if columns > 4.0 { 8.0 } else { 9.0 };
    let y = TABLE_TOP - 16.0;
    canvas.text((left, y), size, true, MUTED, Align::Left, words.date);
    for (i, (metric, _)) in report.series.iter().enumerate() {
        let x = left + 80.0 + width * (i as f32 + 1.0);
        canvas.text(
            (x, y),
            size,
            true,
            MUTED,
            Align::Right,
            words.metric_name(*metric),
        );
    }
    canvas.line((left, y + 5.0), (right, y + 5.0), 0.8, RULE);
    for (row, date) in days.iter().enumerate() {
        let y = TABLE_TOP + row as f32 * ROW;
        let day = date.format("%Y-%m-%d").to_string();
        canvas.text((left, y), size, false, INK, Align::Left, &day);
        for (i, (metric, _)) in report.series.iter().enumerate() {
            let x = left + 80.0 + width * (i as f32 + 1.0);
            let cell = report
                .value(i, *date)
                .map(|v| report.show(*metric, v))
                .unwrap_or_default();
            canvas.text((x, y), size, false, INK, Align::Right, &cell);
        }
    }
}

fn footer(canvas: &mut Canvas<'_, '_>, report: &Report, number: usize, pages: usize) {
    let words = report.words();
    let y = PAGE_HEIGHT - 40.0;
    let right = PAGE_WIDTH - MARGIN;
    canvas.line((MARGIN, y - 14.0), (right, y - 14.0), 0.4, RULE);
    canvas.text((MARGIN, y), 8.0, false, MUTED, Align::Left, &report.title);
    let page = format!("{} {number} {} {pages}", words.page, words.of);
    canvas.text((right, y), 8.0, false, MUTED, Align::Right, &page);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample_in;
    use crate::report::Lang;

    fn text_of(bytes: &[u8]) -> (usize, String) {
        let document = lopdf::Document::load_mem(bytes).expect("a valid PDF");
        let pages: Vec<u32> = document.get_pages().keys().copied().collect();
        let text = document.extract_text(&pages).expect("text");
        (pages.len(), text)
    }

    #[test]
    fn a_title_page_charts_and_the_daily_values() {
        let bytes = render(&sample_in(Lang::Id)).expect("pdf");
        let (pages, text) = text_of(&bytes);
        assert_eq!(pages, 3);
        for expected in [
            "Laporan Analitik",
            "Q1 (test) report",
            "Rentang tanggal: 2024-03-01 sampai 2024-03-03 (3 hari)",
            "Zona waktu: Asia/Jakarta (WIB, UTC+7)",
            "Dibuat pada: 2024-04-01 15:00 WIB",
            "Pendapatan",
            "Rp 1.234,50",
            "+12,5 %",
            "Turun",
            "Pendapatan per hari",
            "Nilai harian",
            "2024-03-02",
            "halaman 3 dari 3",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in {text:?}");
        }
    }

    #[test]
    fn a_years_report_is_a_dozen_pages() {
        let report = crate::report::tests::year_in(Lang::Id);
        let started = std::time::Instant::now();
        let bytes = render(&report).expect("pdf");
        let took = started.elapsed();
        let xlsx = crate::report::xlsx::render(&report).expect("xlsx");
        assert!(xlsx.len() < 400_000, "{} bytes", xlsx.len());
        eprintln!(
            "pdf {} bytes in {took:?}; xlsx {} bytes",
            bytes.len(),
            xlsx.len()
        );
        let (pages, text) = text_of(&bytes);
        // The title page, three of charts (five metrics), eight of 47 days each.
        assert_eq!(pages, 1 + 3 + 8);
        assert!(text.contains("halaman 12 dari 12"));
        assert!(text.contains("2024-12-31"));
        assert!(bytes.len() < 400_000, "{} bytes", bytes.len());
    }

    #[test]
    fn widths_grow_with_text() {
        let fonts = fonts().expect("fonts");
        let short = fonts.regular.width("Rp 1", 10.0);
        let long = fonts.regular.width("Rp 1.234.567", 10.0);
        assert!(short > 5.0 && long > short * 2.0, "{short} {long}");
        assert!(fonts.bold.width("Total", 10.0) > fonts.regular.width("Total", 10.0));
    }
}
