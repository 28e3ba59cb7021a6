//! `trade_push.php` 原始订单推送 (seed 001): pushes platform trades into
//! 旺店通 as form fields `shop_no` + `trade_list` (a JSON array of trades
//! with their `order_list`) + optional `switch`. Answer:
//! `{"code":0,"new_count":n,"chg_count":m}`; in non-strict mode
//! (`switch=0`) the trades 旺店通 refused are listed in
//! `error_list: [{"tid","error"}]` and the others are written.
//!
//! Idempotency: trade_push upserts on `(shop_no, tid)`, so pushing a trade
//! again never makes a second one. A call in which 旺店通 neither created
//! nor changed anything (`new_count = 0`, `chg_count = 0`) was a replay of
//! trades it already had: those come back `existed`.
//!
//! One call carries one shop: records are grouped by `shop_no` (the
//! record's own, else the params'). The answer is for the whole call, so
//! when 旺店通 refuses a call with several trades, each trade is pushed alone
//! to find the ones at fault and give every record its own outcome.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};
use weft_plugin_sdk::{Error, Operation, Outcomes, Result, WriteOutcome};

/// Operation id and endpoint name.
pub const NAME: &str = "trade_push";

/// Trades per call. UNCONFIRMED: see docs/protocol-choices.md (the record
/// gives no limit; 50 keeps one form well under any body cap).
pub const MAX_BATCH: u32 = 50;

/// The params of the operation; the records are the trades.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct TradePush {
    /// 店铺编号 for records that carry no `shop_no` of their own.
    #[serde(default)]
    pub shop_no: Option<String>,
    /// `switch`: 0 non-strict, 1 strict mode (旺店通's default is 1).
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    pub switch: Option<u8>,
}

/// What `describe()` says about the operation.
pub fn operation() -> Operation {
    Operation::target::<TradePush>(NAME, "原始订单推送")
        .description(
            "Pushes trades (tid, trade_status, pay_status, delivery_term, trade_time, receiver_*, paid, \
             order_list[oid, num, price, goods_no, spec_no, ...]) to trade_push.php, one call per shop_no. \
             Upserts on tid: a replayed trade is reported as existed.",
        )
        .max_batch(MAX_BATCH)
}

/// The trades of one shop, with the batch positions they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopTrades {
    /// 店铺编号.
    pub shop_no: String,
    /// Position of each trade in the batch.
    pub indices: Vec<usize>,
    /// The trades, `shop_no` taken out.
    pub trades: Vec<Value>,
    /// Each trade's `tid`.
    pub tids: Vec<String>,
}

/// Groups the records by shop, in order of first appearance. A record
/// without a `tid` or a shop fails as `invalid` here.
pub fn group_by_shop(
    records: Vec<Value>,
    default_shop: Option<&str>,
    outcomes: &mut Outcomes,
) -> Vec<ShopTrades> {
    let mut groups: Vec<ShopTrades> = Vec::new();
    for (index, record) in records.into_iter().enumerate() {
        let Value::Object(mut trade) = record else {
            outcomes.fail([index], Error::invalid("a trade must be a JSON object"));
            continue;
        };
        let Some(tid) = trade.get("tid").and_then(text) else {
            outcomes.fail([index], Error::invalid("the trade has no tid (原始单号)"));
            continue;
        };
        let own_shop = trade.remove("shop_no").as_ref().and_then(text);
        let Some(shop_no) = own_shop.or_else(|| default_shop.map(str::to_owned)) else {
            outcomes.fail(
                [index],
                Error::invalid(format!(
                    "trade {tid} has no shop_no and the params name none"
                )),
            );
            continue;
        };
        let trade = Value::Object(trade);
        match groups.iter_mut().find(|g| g.shop_no == shop_no) {
            Some(group) => {
                group.indices.push(index);
                group.trades.push(trade);
                group.tids.push(tid);
            }
            None => groups.push(ShopTrades {
                shop_no,
                indices: vec![index],
                trades: vec![trade],
                tids: vec![tid],
            }),
        }
    }
    groups
}

/// A non-empty text or number as text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The business form fields of one call.
///
/// # Errors
/// `fatal` when the trades cannot be serialised.
pub fn form(shop_no: &str, trades: &[Value], switch: Option<u8>) -> Result<Vec<(String, String)>> {
    let mut fields = vec![
        ("shop_no".to_owned(), shop_no.to_owned()),
        ("trade_list".to_owned(), serde_json::to_string(trades)?),
    ];
    if let Some(switch) = switch {
        fields.push(("switch".to_owned(), switch.to_string()));
    }
    Ok(fields)
}

/// The answer to a successful push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushed {
    /// Trades created.
    pub new_count: u64,
    /// Trades that already existed and were updated.
    pub chg_count: u64,
    /// Trades refused in non-strict mode: (tid, 旺店通's reason).
    pub refused: Vec<(String, String)>,
}

impl Pushed {
    /// Reads the counts out of a `code = 0` reply.
    pub fn from_reply(reply: &Map<String, Value>) -> Self {
        let count = |key: &str| match reply.get(key) {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
            Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
            _ => 0,
        };
        let refused = reply
            .get("error_list")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| {
                        let tid = e.get("tid").and_then(text)?;
                        let reason = ["error", "message", "msg"]
                            .iter()
                            .find_map(|k| e.get(*k).and_then(Value::as_str))
                            .unwrap_or("refused");
                        Some((tid, reason.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            new_count: count("new_count"),
            chg_count: count("chg_count"),
            refused,
        }
    }
}

/// Pushes every shop's trades with `push(shop_no, trades)` and fills in the
/// outcomes; see the module doc for how a refused call is narrowed down.
pub fn push_all(
    groups: &[ShopTrades],
    outcomes: &mut Outcomes,
    mut push: impl FnMut(&str, &[Value]) -> Result<Pushed>,
) {
    for group in groups {
        if outcomes.halted() {
            return;
        }
        match push(&group.shop_no, &group.trades) {
            Ok(pushed) => record_pushed(group, 0..group.trades.len(), pushed, outcomes),
            Err(Error::Invalid(_)) if group.trades.len() > 1 => {
                for i in 0..group.trades.len() {
                    if outcomes.halted() {
                        return;
                    }
                    match push(&group.shop_no, std::slice::from_ref(&group.trades[i])) {
                        Ok(pushed) => record_pushed(group, i..i + 1, pushed, outcomes),
                        Err(e) => outcomes.fail([group.indices[i]], on_trade(e, &group.tids[i])),
                    }
                }
            }
            Err(e) => {
                let e = match group.tids.as_slice() {
                    [tid] => on_trade(e, tid),
                    _ => e.context(format!("shop {}", group.shop_no)),
                };
                outcomes.fail(group.indices.iter().copied(), e);
            }
        }
    }
}

fn on_trade(e: Error, tid: &str) -> Error {
    e.context(format!("trade {tid}"))
}

fn record_pushed(
    group: &ShopTrades,
    range: std::ops::Range<usize>,
    pushed: Pushed,
    outcomes: &mut Outcomes,
) {
    // UNCONFIRMED: see docs/protocol-choices.md: the answer counts, it does
    // not list. Only a call that neither created nor changed anything was a
    // pure replay; a call that changed some trades cannot say which, and
    // its trades count as written by it, as the contract asks of changes.
    let existed = pushed.new_count == 0 && pushed.chg_count == 0;
    for i in range {
        let tid = &group.tids[i];
        if let Some((_, reason)) = pushed.refused.iter().find(|(t, _)| t == tid) {
            let error = Error::invalid(format!("trade {tid}: 旺店通 refused it: {reason}"));
            outcomes.fail([group.indices[i]], error);
            continue;
        }
        let number = Some(tid.clone());
        let outcome = if existed {
            WriteOutcome::existed(None, number)
        } else {
            WriteOutcome::created(None, number)
        };
        outcomes.set(group.indices[i], outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trade(tid: &str, shop: Option<&str>) -> Value {
        let mut t = json!({"tid": tid, "trade_status": 30, "order_list": [{"oid": format!("{tid}-1"), "num": 1}]});
        if let (Some(shop), Some(map)) = (shop, t.as_object_mut()) {
            map.insert("shop_no".to_owned(), json!(shop));
        }
        t
    }

    #[test]
    fn records_are_grouped_by_shop_in_order() {
        let mut outcomes = Outcomes::new(4);
        let groups = group_by_shop(
            vec![
                trade("T1", Some("S1")),
                trade("T2", None),
                trade("T3", Some("S1")),
                json!({"x": 1}),
            ],
            Some("S0"),
            &mut outcomes,
        );
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].shop_no, "S1");
        assert_eq!(groups[0].indices, vec![0, 2]);
        assert_eq!(groups[0].tids, vec!["T1", "T3"]);
        assert!(groups[0].trades[0].get("shop_no").is_none());
        assert_eq!(groups[1].shop_no, "S0");
        assert!(outcomes.is_decided(3));
    }

    #[test]
    fn a_trade_without_a_shop_is_invalid() {
        let mut outcomes = Outcomes::new(1);
        assert!(group_by_shop(vec![trade("T1", None)], None, &mut outcomes).is_empty());
        let out = outcomes.finish().expect("outcomes");
        assert_eq!(
            out[0],
            WriteOutcome::Failed(Error::invalid(
                "trade T1 has no shop_no and the params name none"
            ))
        );
    }

    #[test]
    fn the_form_carries_shop_trades_and_switch() {
        let f = form("S1", &[json!({"tid":"T1"})], Some(0)).expect("form");
        assert_eq!(
            f,
            vec![
                ("shop_no".to_owned(), "S1".to_owned()),
                ("trade_list".to_owned(), r#"[{"tid":"T1"}]"#.to_owned()),
                ("switch".to_owned(), "0".to_owned()),
            ]
        );
    }

    #[test]
    fn new_and_changed_trades_are_written_and_replays_existed() {
        let mut outcomes = Outcomes::new(4);
        let groups = group_by_shop(
            vec![
                trade("T1", Some("S1")),
                trade("T2", Some("S2")),
                trade("T3", Some("S2")),
                trade("T4", Some("S3")),
            ],
            None,
            &mut outcomes,
        );
        push_all(&groups, &mut outcomes, |shop, _| {
            let (new_count, chg_count) = match shop {
                "S1" => (1, 0),
                "S2" => (0, 0),
                _ => (0, 1),
            };
            Ok(Pushed {
                new_count,
                chg_count,
                refused: vec![],
            })
        });
        assert_eq!(
            outcomes.finish(),
            Ok(vec![
                WriteOutcome::created(None, Some("T1".to_owned())),
                WriteOutcome::existed(None, Some("T2".to_owned())),
                WriteOutcome::existed(None, Some("T3".to_owned())),
                WriteOutcome::created(None, Some("T4".to_owned())),
            ])
        );
    }

    #[test]
    fn a_refused_call_is_narrowed_down_to_the_bad_trade() {
        let mut outcomes = Outcomes::new(3);
        let groups = group_by_shop(
            vec![
                trade("T1", Some("S1")),
                trade("BAD", Some("S1")),
                trade("T3", Some("S1")),
            ],
            None,
            &mut outcomes,
        );
        let mut calls = 0;
        push_all(&groups, &mut outcomes, |_, trades| {
            calls += 1;
            if trades.iter().any(|t| t["tid"] == "BAD") {
                Err(Error::invalid("旺店通 code 2300: 货品不存在"))
            } else {
                Ok(Pushed {
                    new_count: trades.len() as u64,
                    chg_count: 0,
                    refused: vec![],
                })
            }
        });
        assert_eq!(calls, 4);
        let out = outcomes.finish().expect("outcomes");
        assert_eq!(out[0], WriteOutcome::created(None, Some("T1".to_owned())));
        assert_eq!(
            out[1],
            WriteOutcome::Failed(Error::invalid("trade BAD: 旺店通 code 2300: 货品不存在"))
        );
        assert_eq!(out[2], WriteOutcome::created(None, Some("T3".to_owned())));
    }

    #[test]
    fn a_rate_limit_stops_the_batch() {
        let mut outcomes = Outcomes::new(2);
        let groups = group_by_shop(
            vec![trade("T1", Some("S1")), trade("T2", Some("S2"))],
            None,
            &mut outcomes,
        );
        let mut calls = 0;
        push_all(&groups, &mut outcomes, |shop, _| {
            calls += 1;
            if shop == "S1" {
                Ok(Pushed {
                    new_count: 1,
                    chg_count: 0,
                    refused: vec![],
                })
            } else {
                Err(Error::rate_limited(None, "频率超限"))
            }
        });
        assert_eq!(calls, 2);
        let out = outcomes.finish().expect("progress");
        assert_eq!(
            out[1].clone(),
            WriteOutcome::Failed(Error::rate_limited(None, "trade T2: 频率超限"))
        );
    }

    #[test]
    fn trades_refused_in_non_strict_mode_fail_alone() {
        let mut outcomes = Outcomes::new(2);
        let groups = group_by_shop(
            vec![trade("T1", Some("S1")), trade("T2", Some("S1"))],
            None,
            &mut outcomes,
        );
        let reply = json!({"code":0,"message":"","new_count":1,"chg_count":0,
            "error_list":[{"tid":"T2","error":"order_list第1行num必须大于0"}]});
        let pushed = Pushed::from_reply(reply.as_object().expect("object"));
        push_all(&groups, &mut outcomes, |_, _| Ok(pushed.clone()));
        let out = outcomes.finish().expect("outcomes");
        assert_eq!(out[0], WriteOutcome::created(None, Some("T1".to_owned())));
        assert_eq!(
            out[1],
            WriteOutcome::Failed(Error::invalid(
                "trade T2: 旺店通 refused it: order_list第1行num必须大于0"
            ))
        );
    }

    #[test]
    fn counts_may_be_text() {
        let reply = json!({"code":0,"new_count":"2","chg_count":1});
        assert_eq!(
            Pushed::from_reply(reply.as_object().expect("object")),
            Pushed {
                new_count: 2,
                chg_count: 1,
                refused: vec![]
            }
        );
    }
}
