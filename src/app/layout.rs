//! Where each pane goes: pure functions of the screen size and of what is
//! shown. The updates use them to know how many rows a page is, and the
//! drawing uses the same ones, so scrolling and drawing agree.

use ratatui::layout::{Constraint, Layout, Rect};

/// What is on screen, as far as the layout cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub trace: bool,
    /// The preview beside or under the list, where it fits (`p` hides it).
    pub preview: bool,
    /// The message view replaces the list and the preview.
    pub message: bool,
    /// So does the senders view.
    pub senders: bool,
    /// The header-loading gauge takes a row of the list.
    pub headers_gauge: bool,
    /// The RETR progress gauge takes a row of the message view.
    pub retr_gauge: bool,
}

/// Screen regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regions {
    pub main: Rect,
    pub list: Option<Rect>,
    pub preview: Option<Rect>,
    pub trace: Option<Rect>,
    pub activity: Rect,
    pub status: Rect,
}

/// Regions inside `area`. Drawing uses the frame's real area, which can be
/// smaller than the screen size the app last saw for one frame before a
/// resize event arrives.
pub fn regions(area: Rect, shown: Shown) -> Regions {
    let [body, activity, status] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let (main, trace) = if shown.trace && body.height >= 8 {
        let [main, trace] = Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(body);
        (main, Some(trace))
    } else {
        (body, None)
    };
    let (list, preview) = if shown.message || shown.senders {
        (None, None)
    } else if !shown.preview {
        (Some(main), None)
    } else if main.width >= 120 {
        let [list, preview] = Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(main);
        (Some(list), Some(preview))
    } else if main.height >= 18 {
        let [list, preview] = Layout::vertical([Constraint::Min(5), Constraint::Length(9)]).areas(main);
        (Some(list), Some(preview))
    } else {
        (Some(main), None)
    };
    Regions {
        main,
        list,
        preview,
        trace,
        activity,
        status,
    }
}

/// The whole screen of this size.
pub(crate) fn screen_area(screen: (u16, u16)) -> Rect {
    Rect::new(0, 0, screen.0, screen.1)
}

/// Rows of the list's table: the list's inside, less the column header and
/// the gauge.
pub(crate) fn list_table_rows(regions: &Regions, shown: Shown) -> usize {
    regions
        .list
        .map(|r| r.height.saturating_sub(2 + 1 + u16::from(shown.headers_gauge)) as usize)
        .unwrap_or(0)
}

/// Rows of the senders table: the main area's inside, less the column
/// header and the gauge.
pub(crate) fn senders_rows(regions: &Regions, shown: Shown) -> usize {
    regions
        .main
        .height
        .saturating_sub(2 + 1 + u16::from(shown.headers_gauge)) as usize
}

/// Rows of the prompt box: its border, the typed line and the line that
/// says what it would select (or where the query is wrong).
pub(crate) const PROMPT_HEIGHT: u16 = 4;

/// The prompt box: the full width, just above the activity line, over the
/// bottom of whatever is there.
pub(crate) fn prompt_box(regions: &Regions) -> Rect {
    let height = PROMPT_HEIGHT.min(regions.activity.y);
    Rect::new(
        regions.activity.x,
        regions.activity.y - height,
        regions.activity.width,
        height,
    )
}

/// Most subject lines the commit dialog lists at once.
const DIALOG_SUBJECTS: usize = 10;
/// Dialog lines besides the subjects: border, question, blank, the query
/// that selected the marks, blank, what is above and below, blank, buttons,
/// border.
const DIALOG_FIXED_LINES: usize = 9;

/// Subject lines the commit dialog shows on a screen of this size.
pub(crate) fn dialog_subject_rows(screen: (u16, u16)) -> usize {
    (screen.1 as usize)
        .saturating_sub(DIALOG_FIXED_LINES)
        .clamp(1, DIALOG_SUBJECTS)
}

/// Width available for the message view's text.
pub(crate) fn message_text_width(screen: (u16, u16)) -> usize {
    screen.0.saturating_sub(2).max(10) as usize
}

/// Text rows of the message view.
pub(crate) fn message_text_rows(regions: &Regions, shown: Shown) -> usize {
    regions.main.height.saturating_sub(2 + u16::from(shown.retr_gauge)) as usize
}

/// Text rows of the trace pane (0 when hidden).
pub(crate) fn trace_rows(regions: &Regions) -> usize {
    regions.trace.map(|t| t.height.saturating_sub(2) as usize).unwrap_or(0)
}

/// A box of at most `width` x `height`, centred in `area`.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

/// The help box for `lines` lines of help.
pub(crate) fn help_box(area: Rect, lines: usize) -> Rect {
    let height = u16::try_from(lines).unwrap_or(u16::MAX).saturating_add(2);
    centered(area, 76, height)
}

/// Help lines the help box shows at once.
pub(crate) fn help_rows(area: Rect, lines: usize) -> usize {
    help_box(area, lines).height.saturating_sub(2) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown() -> Shown {
        Shown {
            trace: false,
            preview: true,
            message: false,
            senders: false,
            headers_gauge: false,
            retr_gauge: false,
        }
    }

    #[test]
    fn wide_screens_put_the_preview_beside_the_list() {
        let r = regions(screen_area((120, 32)), shown());
        let (list, preview) = (r.list.unwrap(), r.preview.unwrap());
        assert_eq!(list.y, preview.y);
        assert_eq!(list_table_rows(&r, shown()), 30 - 3);
        let gauge = Shown {
            headers_gauge: true,
            ..shown()
        };
        assert_eq!(list_table_rows(&r, gauge), 30 - 4);
    }

    #[test]
    fn the_message_view_takes_the_list_and_preview() {
        let s = Shown {
            message: true,
            trace: true,
            ..shown()
        };
        let r = regions(screen_area((80, 24)), s);
        assert_eq!((r.list, r.preview), (None, None));
        assert!(r.trace.is_some());
        assert_eq!(message_text_rows(&r, s) + 2, r.main.height as usize);
        assert_eq!(trace_rows(&r) + 2, r.trace.unwrap().height as usize);
    }

    /// Hidden, the preview gives its rows (or columns) to the list.
    #[test]
    fn a_hidden_preview_leaves_the_list_the_whole_pane() {
        let hidden = Shown {
            preview: false,
            ..shown()
        };
        for screen in [(80, 24), (120, 32)] {
            let r = regions(screen_area(screen), hidden);
            assert_eq!((r.list, r.preview), (Some(r.main), None));
            let with = regions(screen_area(screen), shown()).list.unwrap();
            assert!(r.main.area() > with.area(), "{screen:?}");
        }
        let r = regions(screen_area((80, 24)), hidden);
        assert_eq!(
            list_table_rows(&r, hidden),
            24 - 2 - 3,
            "all but the bottom lines and the frame"
        );
    }

    #[test]
    fn nothing_breaks_on_tiny_screens() {
        for screen in [(0, 0), (1, 1), (5, 2), (200, 2), (2, 60)] {
            let r = regions(screen_area(screen), shown());
            let _ = (list_table_rows(&r, shown()), message_text_width(screen));
            let help = help_box(screen_area(screen), 100);
            assert!(help.width <= screen.0 && help.height <= screen.1);
        }
    }
}
