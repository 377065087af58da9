//! Drawing: a pure function of `App`. Nothing here changes state or waits
//! on anything; each pane draws into the region `app::layout` gives it, so
//! the drawing and the updates agree on what fits. Only the rows on screen
//! are turned into widgets, so a 100,000-message list costs what a 30-row
//! one does. `ui` reads `app`; `app` never reads `ui`.

mod backup;
mod confirm;
mod connection;
mod help;
mod list;
mod message;
mod preview;
mod prompt;
mod senders;
mod status;
pub mod theme;
mod trace;

use crate::app::App;
use ratatui::Frame;

pub fn draw(frame: &mut Frame, app: &App) {
    let r = app.regions_in(frame.area());
    if let Some(area) = r.list {
        list::draw(frame, app, area);
    }
    if let Some(area) = r.preview {
        preview::draw(frame, app, area);
    }
    if app.viewer.is_some() {
        message::draw(frame, app, r.main);
    } else if app.senders.is_some() {
        senders::draw(frame, app, r.main);
    }
    if let Some(area) = r.trace {
        trace::draw(frame, app, area);
    }
    status::draw_activity(frame, app, r.activity);
    status::draw_status(frame, app, r.status);
    if app.prompt.is_some() {
        prompt::draw(frame, app);
    }
    if app.commit.dialog.is_some() {
        confirm::draw(frame, app);
    }
    backup::draw(frame, app);
    if app.connection.open {
        connection::draw(frame, app);
    }
    if app.help.open {
        help::draw(frame, app);
    }
}
