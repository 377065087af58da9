//! The inspector's model (`popscope::app::App`) driven against a live
//! session without a terminal: effects go to the session, session events
//! come back to the app, the way `popscope::event_loop` moves them.
#![allow(dead_code)]

use popscope::app::{App, Effect};
use popscope::event_loop::connection_facts;
use popscope::session::driver::{EVENT_CHANNEL_CAPACITY, Route, SessionEvent};
use popscope::session::{Observers, Session, SessionConfig, open};
use std::time::Duration;
use tokio::sync::mpsc;

pub struct Headless {
    pub app: App,
    pub session: Session,
    pub events: mpsc::Receiver<SessionEvent>,
    /// Where a reconnect goes (a fake server accepts one connection, so
    /// the next one is another server).
    pub reconnect_to: Option<SessionConfig>,
    /// The app asked to reconnect and it has not been done yet.
    reconnect_asked: bool,
}

impl Headless {
    /// Opens the session and starts the app on it (LIST, UIDL…).
    pub async fn open(config: &SessionConfig) -> Headless {
        let (tx, events) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        let observers = Observers {
            trace: Vec::new(),
            events: Some(tx),
        };
        let session = open(config, observers)
            .await
            .unwrap_or_else(|f| panic!("open failed: {f}"));
        let facts = connection_facts(&session, &config.host, config.port, config.tls);
        let mut app = App::new(facts, (120, 40));
        app.connection.report = Some(session.report.clone());
        let mut headless = Headless {
            app,
            session,
            events,
            reconnect_to: None,
            reconnect_asked: false,
        };
        let effects = headless.app.start();
        headless.apply(effects);
        headless
    }

    /// Hands the effects to the session; returns whether the app asked to
    /// leave.
    pub fn apply(&mut self, effects: Vec<Effect>) -> bool {
        let mut exit = false;
        for effect in effects {
            match effect {
                Effect::Submit {
                    ticket,
                    command,
                    priority,
                } => {
                    let _ = self.session.submit(command, priority, Route::Event { ticket });
                }
                Effect::Exit => exit = true,
                Effect::Reconnect => self.reconnect_asked = true,
                // Copies to disk are the event loop's (tested through it).
                Effect::SaveTrace | Effect::Backup(_) | Effect::SaveMessage(_) | Effect::SaveMany(_) => {}
            }
        }
        exit
    }

    /// What the event loop does for `Effect::Reconnect`: the old session
    /// dropped without QUIT, a new one opened, the app told.
    async fn reconnect(&mut self) {
        self.reconnect_asked = false;
        let config = self
            .reconnect_to
            .take()
            .expect("a reconnect was asked; set reconnect_to");
        let (tx, events) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
        let observers = Observers {
            trace: Vec::new(),
            events: Some(tx),
        };
        match open(&config, observers).await {
            Ok(session) => {
                let facts = connection_facts(&session, &config.host, config.port, config.tls);
                let old = std::mem::replace(&mut self.session, session);
                old.abandon().await;
                self.events = events;
                let effects = self.app.reconnected(facts);
                self.apply(effects);
            }
            Err(failure) => self.app.reconnect_failed(&failure.to_string()),
        }
    }

    /// Moves session events into the app until `done` holds; panics after
    /// `limit`.
    pub async fn run_until(&mut self, limit: Duration, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(&self.app) {
            if self.reconnect_asked {
                self.reconnect().await;
                continue;
            }
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "timed out; activity: {:?}, link: {:?}",
                        self.app.activity, self.app.link
                    )
                });
            let event = event.unwrap_or(SessionEvent::Closed(None));
            let closed = matches!(event, SessionEvent::Closed(_));
            let effects = self.app.handle_session_event(event);
            self.apply(effects);
            if closed && !done(&self.app) && !self.reconnect_asked {
                panic!("the session closed; activity: {:?}", self.app.activity);
            }
        }
    }
}
