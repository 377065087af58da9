//! How `popscope list` writes its rows: a table (with a header row on a
//! terminal, sizes in human units or exact bytes), JSON Lines (`--json`,
//! one object per line; `jq -s` collects them) or one JSON array
//! (`--json-array`). A reader that goes away (`popscope list | head`) is a
//! normal end: the rows stop, the summary still counts the whole maildrop,
//! and the exit status is 0.

use super::ListArgs;
use super::list::Listing;
use crate::error::{Failure, FailureKind};
use crate::text::{fit, human_size};
use std::io::{self, Write};

/// What each row is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Columns for people; `header` on a terminal, `exact` sizes with `--bytes`.
    Table { header: bool, exact: bool },
    /// One JSON object per line.
    JsonLines,
    /// One JSON array.
    JsonArray,
}

impl Format {
    /// The format `args` ask for; `terminal`: standard output is one.
    pub fn of(args: &ListArgs, terminal: bool) -> Format {
        if args.json_array {
            Format::JsonArray
        } else if args.json {
            Format::JsonLines
        } else {
            Format::Table {
                header: terminal,
                exact: args.bytes,
            }
        }
    }

    /// True for the formats a program reads (no summary line for them).
    pub(crate) fn is_json(self) -> bool {
        matches!(self, Format::JsonLines | Format::JsonArray)
    }
}

/// Writes rows to `out` in a `Format`, remembering the first write error
/// (after which nothing more is written).
pub(crate) struct RowWriter<W: Write> {
    out: W,
    format: Format,
    rows: u64,
    error: Option<io::Error>,
}

impl<W: Write> RowWriter<W> {
    pub fn new(out: W, format: Format) -> RowWriter<W> {
        let mut writer = RowWriter {
            out,
            format,
            rows: 0,
            error: None,
        };
        match format {
            Format::Table { header: true, exact } => {
                let line = columns("MSG", "UID", "SIZE", exact, "DATE", "FROM", "SUBJECT");
                writer.write(format_args!("{line}\n"));
            }
            Format::JsonArray => writer.write(format_args!("[")),
            _ => {}
        }
        writer
    }

    /// Writes one row; an error stops the listing (the caller's `emit`
    /// returns it).
    pub fn row(&mut self, listing: &Listing) -> io::Result<()> {
        let json = || serde_json::to_string(listing).unwrap_or_default();
        match self.format {
            Format::Table { exact, .. } => self.write(format_args!("{}\n", table_row(listing, exact))),
            Format::JsonLines => self.write(format_args!("{}\n", json())),
            Format::JsonArray => {
                let separator = if self.rows == 0 { "\n" } else { ",\n" };
                self.write(format_args!("{separator}{}", json()));
            }
        }
        self.rows += 1;
        match &self.error {
            Some(e) => Err(io::Error::new(e.kind(), e.to_string())),
            None => Ok(()),
        }
    }

    /// Closes the array and flushes. A reader that went away is not an
    /// error; any other write error is.
    pub fn finish(mut self) -> Result<(), Failure> {
        if self.format == Format::JsonArray {
            let end = if self.rows == 0 { "]\n" } else { "\n]\n" };
            self.write(format_args!("{end}"));
        }
        if self.error.is_none()
            && let Err(e) = self.out.flush()
        {
            self.error = Some(e);
        }
        match self.error {
            Some(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Failure::new(
                FailureKind::Local,
                format!("cannot write the listing: {e}"),
            )),
            _ => Ok(()),
        }
    }

    fn write(&mut self, text: std::fmt::Arguments<'_>) {
        if self.error.is_none()
            && let Err(e) = self.out.write_fmt(text)
        {
            self.error = Some(e);
        }
    }
}

/// A table row: number, UID, size, date, sender, subject.
pub(crate) fn table_row(listing: &Listing, exact: bool) -> String {
    let h = listing.headers.clone().unwrap_or_default();
    let date = h
        .date()
        .map(|d| d.get(..16).unwrap_or(d).replace('T', " "))
        .unwrap_or_default();
    let size = if exact {
        listing.size.to_string()
    } else {
        human_size(listing.size)
    };
    columns(
        &listing.msg.to_string(),
        listing.uid.as_deref().unwrap_or("-"),
        &size,
        exact,
        &date,
        h.from(),
        h.subject(),
    )
}

/// The columns, aligned; exact sizes get a wider column.
fn columns(msg: &str, uid: &str, size: &str, exact: bool, date: &str, from: &str, subject: &str) -> String {
    let size_width = if exact { 12 } else { 9 };
    format!(
        "{msg:>6}  {}  {size:>size_width$}  {}  {}  {}",
        fit(uid, 24),
        fit(date, 16),
        fit(from, 32),
        fit(subject, 60).trim_end(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::HeaderSummary;

    fn listing(msg: u32, size: u64) -> Listing {
        Listing {
            msg,
            uid: Some(format!("uid{msg}")),
            size,
            headers: Some(HeaderSummary::parse(
                b"From: Bob <bob@example.org>\r\nSubject: hello\r\nDate: Tue, 1 Jul 2025 10:52:37 +0000\r\n\r\n",
            )),
            dup: false,
        }
    }

    fn written(format: Format, rows: &[Listing]) -> String {
        let mut out = Vec::new();
        let mut writer = RowWriter::new(&mut out, format);
        for row in rows {
            writer.row(row).unwrap();
        }
        writer.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_terminal_gets_a_header_row_and_bytes_are_exact_on_request() {
        let rows = [listing(1, 1_536), listing(2, 6_200_000)];
        let table = written(
            Format::Table {
                header: true,
                exact: false,
            },
            &rows,
        );
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].trim_start().starts_with("MSG  UID"), "{table}");
        assert!(lines[1].contains("1.5 KB") && lines[2].contains("5.9 MB"), "{table}");
        // The header's columns line up with the rows'.
        assert_eq!(
            lines[0].find("SIZE").map(|i| i + 4),
            lines[1].find("1.5 KB").map(|i| i + 6)
        );
        let exact = written(
            Format::Table {
                header: false,
                exact: true,
            },
            &rows,
        );
        assert!(exact.lines().nth(1).unwrap().contains(" 6200000  "), "{exact}");
        assert!(!exact.contains("MSG"), "no header off a terminal");
    }

    #[test]
    fn json_lines_are_one_object_each_and_the_array_is_one_document() {
        let rows = [listing(1, 10), listing(2, 20), listing(3, 30)];
        let lines = written(Format::JsonLines, &rows);
        for (line, msg) in lines.lines().zip(1..) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["msg"], msg);
        }
        for n in [0, 1, 3] {
            let text = written(Format::JsonArray, &rows[..n]);
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(value.as_array().unwrap().len(), n, "{text}");
            assert_eq!(
                value.as_array().unwrap().first().map(|v| v["subject"].clone()),
                (n > 0).then(|| "hello".into())
            );
        }
    }

    #[test]
    fn a_json_row_names_every_header_field_in_order() {
        let with_headers = written(Format::JsonLines, &[listing(1, 10)]);
        assert_eq!(
            with_headers,
            "{\"msg\":1,\"uid\":\"uid1\",\"size\":10,\"date\":\"2025-07-01T10:52:37Z\",\
             \"from\":\"Bob <bob@example.org>\",\"to\":\"\",\"cc\":\"\",\"subject\":\"hello\",\
             \"message_id\":\"\",\"content_type\":\"\"}\n"
        );
        let mut dateless = listing(2, 20);
        dateless.headers = Some(HeaderSummary::parse(b"Subject: x\r\n\r\n"));
        let without_date = written(Format::JsonLines, &[dateless]);
        assert!(
            without_date.contains("\"size\":20,\"date\":null,\"from\":\"\","),
            "{without_date}"
        );
        let mut unloaded = listing(3, 30);
        unloaded.headers = None;
        assert_eq!(
            written(Format::JsonLines, &[unloaded]),
            "{\"msg\":3,\"uid\":\"uid3\",\"size\":30}\n"
        );
    }

    /// Takes `room` bytes, then fails as `kind`.
    struct Closing {
        room: usize,
        kind: io::ErrorKind,
    }

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from(self.kind));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_stops_the_rows_quietly_and_other_errors_fail() {
        let mut writer = RowWriter::new(
            Closing {
                room: 200,
                kind: io::ErrorKind::BrokenPipe,
            },
            Format::JsonLines,
        );
        let results: Vec<bool> = (1..=5).map(|n| writer.row(&listing(n, 1)).is_ok()).collect();
        assert!(results.contains(&false) && results[0], "{results:?}");
        assert!(writer.finish().is_ok());
        let mut writer = RowWriter::new(
            Closing {
                room: 0,
                kind: io::ErrorKind::StorageFull,
            },
            Format::JsonLines,
        );
        assert!(writer.row(&listing(1, 1)).is_err());
        let failure = writer.finish().unwrap_err();
        assert_eq!(failure.kind, FailureKind::Local);
        assert!(failure.message.starts_with("cannot write the listing"), "{failure}");
    }
}
