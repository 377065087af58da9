//! A copy under way (the backup before deleting, or `W`): where it goes,
//! a gauge (by bytes), the count, bytes and rate, and the key that
//! cancels it.

use super::list::gauge;
use super::theme;
use crate::app::App;
use crate::app::keymap::{Action, Context, keys_for};
use crate::app::layout::centered;
use crate::store::show_path;
use crate::text::{fit, human_size};
use crate::transfer::Progress;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

pub(super) fn draw(frame: &mut Frame, app: &App) {
    let (title, dir, progress, cancelling) = match (&app.commit.backup, &app.saving) {
        (Some(backup), _) => (
            " Backing up before deleting ",
            &backup.dir,
            backup.progress(),
            backup.cancelling(),
        ),
        (None, Some(saving)) => (
            " Saving messages ",
            &saving.target,
            saving.gauge.lock().map(|p| p.clone()).unwrap_or_default(),
            saving.cancel.is_cancelled(),
        ),
        (None, None) => return,
    };
    let theme = theme::of(app);
    let area = frame.area();
    let width = 60u16.min(area.width.saturating_sub(4));
    let popup = centered(area, width + 4, 6);
    frame.render_widget(Clear, popup);
    let block = theme.dialog(title, theme.danger_border);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [to, bar, counts, keys] = Layout::vertical([Constraint::Length(1); 4]).areas(inner);
    let dir = format!("to {}", show_path(dir));
    frame.render_widget(Paragraph::new(fit(&dir, width as usize).trim_end().to_string()), to);
    let ratio = if progress.total_bytes == 0 {
        0.0
    } else {
        (progress.bytes as f64 / progress.total_bytes as f64).clamp(0.0, 1.0)
    };
    let label = format!("{}/{}", progress.messages, progress.total_messages);
    frame.render_widget(gauge(theme, ratio, label), bar);
    frame.render_widget(Paragraph::new(counts_line(&progress)), counts);
    let saving = app.commit.backup.is_none();
    let key = keys_for(Context::Backup, Action::CancelBackup);
    let hint = match (cancelling, saving) {
        (true, false) => "cancelling… nothing will be deleted".to_string(),
        (true, true) => "cancelling… what is synced stays".to_string(),
        (false, false) => format!("{key} cancel: nothing is deleted, the marks stay"),
        (false, true) => format!("{key} cancel: what is already synced stays"),
    };
    frame.render_widget(Paragraph::new(Line::styled(hint, theme.label)), keys);
}

/// `12 of 40 messages · 3.2 MB of 10 MB · 2.1 MB/s`.
pub(crate) fn counts_line(p: &Progress) -> String {
    let mut line = format!(
        "{} of {} messages · {} of {}",
        p.messages,
        p.total_messages,
        human_size(p.bytes),
        human_size(p.total_bytes.max(p.bytes))
    );
    if let Some(rate) = p.rate() {
        line.push_str(&format!(" · {}/s", human_size(rate as u64)));
    }
    line
}
