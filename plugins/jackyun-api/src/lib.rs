//! # weft-jackyun-api
//!
//! 吉客云's methods as both of its gateways carry them: its own open API
//! (the `jackyun` connector) and 奇门 (the `qimen` connector) take the same
//! business parameters and answer with the same envelope, codes and scroll
//! paging, so each of those lives here once.
//!
//! | module | what |
//! |---|---|
//! | [`reply`] | the answer envelope and failure classes by `subCode` |
//! | [`trade_list`] | `jackyun.tradenotsensitiveinfos.list.get`: params, scroll paging |
//!
//! Transport and signing stay with each connector.

pub mod reply;
pub mod trade_list;
