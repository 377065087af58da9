//! The fuzz targets, one module each (see docs/fuzzing.md for what each
//! checks).

use crate::engine::Target;

pub mod auth;
pub mod client;
pub mod codec;
pub mod headers;
pub mod message;
pub mod names;
pub mod query;
pub mod response;
pub mod sanitize;

/// Every target, for the default time share and `POPSCOPE_FUZZ_REPLAY`.
pub const ALL: &[&Target] = &[
    &codec::TARGET,
    &client::TARGET,
    &response::TARGET,
    &auth::TARGET,
    &headers::TARGET,
    &message::TARGET,
    &sanitize::TARGET,
    &query::TARGET,
    &names::TARGET,
];
