//! A small PDF writer for readable summaries, in any script the embedded
//! font covers (DejaVu Sans: Latin, Arabic and Persian letters).
//!
//! Text is laid out line by line: each paragraph is wrapped at word
//! boundaries, each line is split into directional runs by the Unicode
//! Bidirectional Algorithm (UAX #9, `unicode-bidi`), and each run is shaped
//! by `rustybuzz` (a HarfBuzz port), so Arabic-script letters join and
//! marks sit where they belong. Glyphs are placed one by one in a PDF 1.7
//! document (ISO 32000-1) with the font embedded as a CIDFontType2 with
//! Identity-H encoding (§9.7), and a ToUnicode map (§9.10) so text can be
//! searched and copied.
//!
//! The whole font is embedded (about 740 KiB) rather than a subset: the
//! summary is for reading, and simplicity is worth the size here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rustybuzz::{Direction, Face, UnicodeBuffer};
use unicode_bidi::{BidiInfo, Level};

/// DejaVu Sans (Bitstream Vera licence, see `fonts/LICENSE-DejaVu.txt`).
const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;

/// One block of a document.
#[derive(Debug, Clone)]
pub enum Block {
    /// A heading.
    Heading(String),
    /// A paragraph in the document's direction.
    Text(String),
    /// A paragraph always left to right (commands, keys, hashes).
    Code(String),
    /// Vertical space.
    Gap,
}

/// One glyph placed on a page.
struct Placed {
    gid: u16,
    x: f32,
    y: f32,
    size: f32,
}

struct Layout<'a> {
    face: Face<'a>,
    scale: f32,
    pages: Vec<Vec<Placed>>,
    y: f32,
    /// Text of each glyph used, for the ToUnicode map.
    unicode: BTreeMap<u16, String>,
    rtl: bool,
}

impl<'a> Layout<'a> {
    fn width_of(&self, text: &str, size: f32, rtl_base: bool) -> f32 {
        self.shape_line(text, rtl_base).iter().map(|g| g.1 as f32).sum::<f32>() * self.scale * size
    }

    /// Shapes one line in visual order: (glyph, x advance, x offset, y
    /// offset, the text the glyph stands for).
    fn shape_line(&self, text: &str, rtl_base: bool) -> Vec<(u16, i32, i32, i32, String)> {
        if text.is_empty() {
            return Vec::new();
        }
        let base = if rtl_base { Level::rtl() } else { Level::ltr() };
        let bidi = BidiInfo::new(text, Some(base));
        let mut out = Vec::new();
        for para in &bidi.paragraphs {
            let (levels, runs) = bidi.visual_runs(para, para.range.clone());
            for run in runs {
                let piece = &text[run.clone()];
                let mut buf = UnicodeBuffer::new();
                buf.push_str(piece);
                buf.set_direction(if levels[run.start].is_rtl() {
                    Direction::RightToLeft
                } else {
                    Direction::LeftToRight
                });
                buf.guess_segment_properties();
                let shaped = rustybuzz::shape(&self.face, &[], buf);
                let infos = shaped.glyph_infos();
                // Cluster starts, to find the text each glyph stands for.
                let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
                starts.sort_unstable();
                starts.dedup();
                for (info, pos) in infos.iter().zip(shaped.glyph_positions()) {
                    let start = info.cluster as usize;
                    let end = starts.iter().find(|s| **s > start).copied().unwrap_or(piece.len());
                    out.push((
                        info.glyph_id as u16,
                        pos.x_advance,
                        pos.x_offset,
                        pos.y_offset,
                        piece.get(start..end).unwrap_or_default().to_string(),
                    ));
                }
            }
        }
        out
    }

    fn new_line(&mut self, height: f32) {
        self.y -= height;
        if self.y < MARGIN {
            self.pages.push(Vec::new());
            self.y = PAGE_HEIGHT - MARGIN - height;
        }
    }

    /// Wraps a paragraph at spaces (a word too long for a line is cut).
    fn wrap(&self, text: &str, size: f32, rtl_base: bool) -> Vec<String> {
        let max = PAGE_WIDTH - 2.0 * MARGIN;
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width_of(&candidate, size, rtl_base) <= max {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let mut rest = word.to_string();
                while self.width_of(&rest, size, rtl_base) > max {
                    let mut cut = rest.len();
                    while cut > 1 && self.width_of(&rest[..cut], size, rtl_base) > max {
                        cut = rest[..cut].char_indices().last().map(|(i, _)| i).unwrap_or(1);
                    }
                    lines.push(rest[..cut].to_string());
                    rest = rest[cut..].to_string();
                }
                line = rest;
            }
            lines.push(line);
        }
        lines
    }

    fn paragraph(&mut self, text: &str, size: f32, rtl_base: bool) {
        for line in self.wrap(text, size, rtl_base) {
            self.new_line(size * 1.5);
            let glyphs = self.shape_line(&line, rtl_base);
            let width: f32 = glyphs.iter().map(|g| g.1 as f32).sum::<f32>() * self.scale * size;
            let mut x = if rtl_base { PAGE_WIDTH - MARGIN - width } else { MARGIN };
            let y = self.y;
            for (gid, advance, dx, dy, text) in glyphs {
                self.pages.last_mut().expect("a page").push(Placed {
                    gid,
                    x: x + dx as f32 * self.scale * size,
                    y: y + dy as f32 * self.scale * size,
                    size,
                });
                if !text.is_empty() {
                    self.unicode.entry(gid).or_insert(text);
                }
                x += advance as f32 * self.scale * size;
            }
        }
    }
}

/// Renders `blocks` as a PDF; `rtl` sets the direction of headings and
/// text paragraphs (right-aligned, right-to-left base).
pub fn render(title: &str, blocks: &[Block], rtl: bool) -> Vec<u8> {
    let face = Face::from_slice(FONT, 0).expect("the embedded font parses");
    let scale = 1.0 / face.units_per_em() as f32;
    let mut l = Layout {
        face,
        scale,
        pages: vec![Vec::new()],
        y: PAGE_HEIGHT - MARGIN,
        unicode: BTreeMap::new(),
        rtl,
    };
    for b in blocks {
        match b {
            Block::Heading(t) => {
                l.new_line(6.0);
                l.paragraph(t, 14.0, l.rtl);
            }
            Block::Text(t) => l.paragraph(t, 10.0, l.rtl),
            Block::Code(t) => l.paragraph(t, 8.5, false),
            Block::Gap => l.new_line(6.0),
        }
    }
    write_pdf(title, &l)
}

/// A PDF string literal of UTF-16BE text (for the document title).
fn text_string(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in s.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

fn write_pdf(title: &str, l: &Layout<'_>) -> Vec<u8> {
    let face = &l.face;
    let per_em = face.units_per_em() as f32;
    let thousandths = |v: f32| (v * 1000.0 / per_em).round() as i32;
    let mut objects: Vec<Vec<u8>> = Vec::new();
    // 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor, 6 font file,
    // 7 ToUnicode, 8 info, then a page and its content for each page.
    let page_ids: Vec<usize> = (0..l.pages.len()).map(|i| 9 + 2 * i).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Count {} /Kids [{}] >>",
            page_ids.len(),
            page_ids
                .iter()
                .map(|i| format!("{i} 0 R"))
                .collect::<Vec<_>>()
                .join(" ")
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /DejaVuSans /Encoding /Identity-H \
          /DescendantFonts [4 0 R] /ToUnicode 7 0 R >>"
            .to_vec(),
    );
    let mut used: Vec<u16> = l.pages.iter().flatten().map(|p| p.gid).collect();
    used.sort_unstable();
    used.dedup();
    let widths: String = used
        .iter()
        .map(|g| {
            let w = face.glyph_hor_advance(rustybuzz::ttf_parser::GlyphId(*g)).unwrap_or(0) as f32;
            format!("{g} [{}]", thousandths(w))
        })
        .collect::<Vec<_>>()
        .join(" ");
    objects.push(
        format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /DejaVuSans \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor 5 0 R /CIDToGIDMap /Identity /DW 600 /W [{widths}] >>"
        )
        .into_bytes(),
    );
    let bbox = face.global_bounding_box();
    objects.push(
        format!(
            "<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 /FontBBox [{} {} {} {}] \
             /ItalicAngle 0 /Ascent {} /Descent {} /CapHeight {} /StemV 80 /FontFile2 6 0 R >>",
            thousandths(bbox.x_min as f32),
            thousandths(bbox.y_min as f32),
            thousandths(bbox.x_max as f32),
            thousandths(bbox.y_max as f32),
            thousandths(face.ascender() as f32),
            thousandths(face.descender() as f32),
            thousandths(face.capital_height().unwrap_or(face.ascender()) as f32),
        )
        .into_bytes(),
    );
    let mut font = format!("<< /Length {0} /Length1 {0} >>\nstream\n", FONT.len()).into_bytes();
    font.extend_from_slice(FONT);
    font.extend_from_slice(b"\nendstream");
    objects.push(font);
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &String)> = l.unicode.iter().collect();
    for chunk in entries.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfchar", chunk.len());
        for (gid, text) in chunk {
            let hex: String = text.encode_utf16().map(|u| format!("{u:04X}")).collect();
            let _ = writeln!(cmap, "<{gid:04X}> <{hex}>");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    objects.push(format!("<< /Length {} >>\nstream\n{cmap}endstream", cmap.len()).into_bytes());
    objects.push(format!("<< /Title {} /Producer (Lantern) >>", text_string(title)).into_bytes());
    for (i, page) in l.pages.iter().enumerate() {
        let mut content = String::from("BT\n");
        let mut size = 0.0;
        for g in page {
            if g.size != size {
                size = g.size;
                let _ = writeln!(content, "/F1 {size} Tf");
            }
            let _ = writeln!(content, "1 0 0 1 {:.2} {:.2} Tm <{:04X}> Tj", g.x, g.y, g.gid);
        }
        content.push_str("ET\n");
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                page_ids[i] + 1
            )
            .into_bytes(),
        );
        objects.push(format!("<< /Length {} >>\nstream\n{content}endstream", content.len()).into_bytes());
    }
    // The binary comment line tells transfer tools the file is binary.
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        // Each entry is exactly 20 bytes, the space before the newline included.
        let _ = writeln!(table, "{o:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R /Info 8 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face() -> Face<'static> {
        Face::from_slice(FONT, 0).unwrap()
    }

    fn layout(rtl: bool) -> Layout<'static> {
        let face = face();
        let scale = 1.0 / face.units_per_em() as f32;
        Layout {
            face,
            scale,
            pages: vec![Vec::new()],
            y: PAGE_HEIGHT - MARGIN,
            unicode: BTreeMap::new(),
            rtl,
        }
    }

    #[test]
    fn persian_letters_are_joined_and_laid_out_right_to_left() {
        let l = layout(true);
        // میم alone and at the start of a word take different glyphs.
        let alone = l.shape_line("م", true);
        let joined = l.shape_line("مسعود", true);
        assert_eq!(alone.len(), 1);
        assert_ne!(alone[0].0, 0, "the font has the letter");
        assert!(joined.iter().all(|g| g.0 != 0));
        assert!(
            !joined.iter().any(|g| g.0 == alone[0].0),
            "the initial form differs from the isolated one"
        );
        // Visual order: the first letter of the word comes last.
        assert_eq!(joined.last().unwrap().4, "م");
        // A Latin run inside a Persian line keeps its own order.
        let mixed = l.shape_line("کلید: ABC", true);
        let latin: String = mixed.iter().filter(|g| g.4.is_ascii()).map(|g| g.4.as_str()).collect();
        assert!(latin.contains("ABC"), "{latin:?}");
    }

    #[test]
    fn long_text_wraps_and_flows_onto_more_pages() {
        let l = layout(false);
        let words = "word ".repeat(400);
        let lines = l.wrap(words.trim(), 10.0, false);
        assert!(lines.len() > 10);
        assert!(lines
            .iter()
            .all(|x| l.width_of(x, 10.0, false) <= PAGE_WIDTH - 2.0 * MARGIN));
        let hash = "a".repeat(300);
        let cut = l.wrap(&hash, 8.5, false);
        assert!(cut.len() >= 2, "an unbreakable word is cut");
        assert_eq!(cut.concat(), hash);
        let blocks: Vec<Block> = (0..120).map(|i| Block::Text(format!("Line {i}"))).collect();
        let pdf = render("t", &blocks, false);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 2") || text.contains("/Count 3"), "several pages");
    }

    #[test]
    fn the_file_is_well_formed() {
        let pdf = render(
            "خلاصه",
            &[
                Block::Heading("پرونده".into()),
                Block::Text("برای: Committee".into()),
                Block::Code("lantern-verify DOSSIER.zip --key x+1+AAAA".into()),
            ],
            true,
        );
        assert!(pdf.starts_with(b"%PDF-1.7\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        // Every cross-reference offset points at its object.
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[xref_at..].starts_with(b"xref\n"));
        let table = String::from_utf8_lossy(&pdf[xref_at..]).to_string();
        for (n, line) in table.lines().skip(3).take_while(|l| l.ends_with(" n ")).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj\n", n + 1).as_bytes()),
                "object {}",
                n + 1
            );
        }
        // Text can be extracted: the ToUnicode map knows the letters used.
        assert!(text.contains("beginbfchar"));
        let pe: String = "پ".encode_utf16().map(|u| format!("{u:04X}")).collect();
        assert!(text.contains(&format!("<{pe}>")), "پ is mapped");
    }
}
