//! Faults: 5xx share, rate limiting in each system's own words, latency,
//! held requests, session expiry.

use std::time::{Duration, Instant};

use serde_json::json;
use weft_sim::{Faults, RateLimit, System, TimeoutMode};

use crate::common::{self, purchase_order_model, start, start_with};

fn limited_after(burst: u32) -> Faults {
    Faults {
        rate_limit: Some(RateLimit {
            per_second: 0.0,
            burst,
        }),
        ..Faults::default()
    }
}

#[tokio::test]
async fn error_rate_one_answers_503_and_clearing_restores() {
    let sim = start();
    sim.handle.set_faults(
        System::Wdt,
        Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
    );
    let fields = sim.wdt_form(&[("purchase_no", "CG00000001")]);
    for _ in 0..3 {
        assert_eq!(
            sim.wdt_post("purchase_order_query", &fields)
                .await
                .status()
                .as_u16(),
            503
        );
    }
    sim.handle.clear_faults();
    assert_eq!(
        sim.wdt("purchase_order_query", &[("purchase_no", "CG00000001")])
            .await["code"],
        0
    );
}

#[tokio::test]
async fn error_sequences_repeat_for_the_same_seed() {
    async fn statuses() -> Vec<u16> {
        let sim = start_with(|c| {
            c.faults.insert(
                System::Wdt,
                Faults {
                    error_rate: 0.5,
                    ..Faults::default()
                },
            );
        });
        let fields = sim.wdt_form(&[("purchase_no", "CG00000001")]);
        let mut out = Vec::new();
        for _ in 0..24 {
            out.push(
                sim.wdt_post("purchase_order_query", &fields)
                    .await
                    .status()
                    .as_u16(),
            );
        }
        out
    }
    let first = statuses().await;
    assert_eq!(first, statuses().await);
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
}

#[tokio::test]
async fn rate_limits_answer_in_each_systems_own_words() {
    let sim = start();
    for system in System::ALL {
        sim.handle.set_faults(system, limited_after(1));
    }
    let (s, e) = common::window(&sim, 1);

    sim.wdt("purchase_order_query", &[("purchase_no", "CG00000001")])
        .await;
    let reply = sim
        .wdt("purchase_order_query", &[("purchase_no", "CG00000001")])
        .await;
    assert_eq!(reply["code"], 1090, "{reply}");

    let body = json!({"start_time": s, "end_time": e});
    sim.qimen("wdt.stockout.order.query.return", &body).await;
    let reply = sim.qimen("wdt.stockout.order.query.return", &body).await;
    assert_eq!(reply["error_response"]["code"], 7, "{reply}");
    assert_eq!(
        reply["error_response"]["sub_code"],
        "accesscontrol.limited-by-app-access-count"
    );

    let biz = json!({"so_ids": ["1"]});
    sim.jst_refunds(&biz).await;
    assert_eq!(
        sim.jst_refunds(&biz).await,
        json!({"code": 199, "msg": "接口调用频率超限"})
    );

    let biz = json!({"startModified": s, "endModified": e});
    sim.jackyun(&biz).await;
    assert_eq!(sim.jackyun(&biz).await["subCode"], "0859999999");

    let query = json!({"data": {"FormId": "BD_STOCK", "FieldKeys": "FNumber"}});
    sim.k3("DynamicFormService.ExecuteBillQuery", &query).await;
    let reply = sim.k3("DynamicFormService.ExecuteBillQuery", &query).await;
    assert_eq!(
        reply[0][0]["Result"]["ResponseStatus"]["MsgCode"], 14,
        "{reply}"
    );
    let save = json!({"formid": "PUR_PurchaseOrder", "data": {"Model": purchase_order_model("CG-RL", "SKU00001")}});
    assert_eq!(
        sim.k3("DynamicFormService.Save", &save).await["Result"]["ResponseStatus"]["MsgCode"],
        14
    );
    // A throttled login says so with the code, not as a refused login.
    let c = sim.handle.config().credentials.k3cloud.clone();
    let login = sim
        .k3_post(
            &common::Sim::k3_path("AuthService.ValidateUser"),
            &[],
            &json!({"acctid": c.acct_id, "username": c.username, "password": c.password, "lcid": 2052}),
        )
        .await;
    assert_eq!(login["Result"]["ResponseStatus"]["MsgCode"], 14, "{login}");
    assert!(login.get("LoginResultType").is_none(), "{login}");

    let c = sim.handle.config().credentials.jdy.clone();
    let path = "/jdyconnector/app_management/kingdee_auth_token";
    let query = vec![("app_key".to_string(), c.app_key.clone())];
    let mut replies = Vec::new();
    for _ in 0..2 {
        let mut request = sim.http.get(sim.url_with(path, &query));
        for (k, v) in sim.jdy_headers("GET", path, &query, &c.client_secret) {
            request = request.header(k, v);
        }
        replies.push(
            common::body_json(request.send().await.expect("answered"))
                .await
                .1,
        );
    }
    assert_eq!(
        replies[1],
        json!({"errcode": 1030001, "description": "请求过于频繁"})
    );
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let sim = start();
    sim.handle.set_faults(
        System::Jackyun,
        Faults {
            latency_ms: 150,
            ..Faults::default()
        },
    );
    let (s, e) = common::window(&sim, 1);
    let started = Instant::now();
    let reply = sim
        .jackyun(&json!({"startModified": s, "endModified": e}))
        .await;
    // A lower bound only: a sleep never ends early, however busy the machine.
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(reply["code"], 200);
}

#[tokio::test]
async fn held_requests_are_dropped_or_answered_late() {
    let sim = start();
    sim.handle.set_faults(
        System::K3cloud,
        Faults {
            timeout_rate: 1.0,
            timeout_hold_ms: 50,
            timeout_mode: TimeoutMode::Drop,
            ..Faults::default()
        },
    );
    let save = json!({"formid": "PUR_PurchaseOrder", "data": {"Model": purchase_order_model("CG-HOLD", "SKU00001")}});
    let path = common::Sim::k3_path("DynamicFormService.Save");
    let secret = sim.handle.config().credentials.k3cloud.app_secret.clone();
    let mut request = sim.http.post(sim.url(&path)).body(save.to_string());
    for (k, v) in sim.k3_signed_headers(&path, &secret) {
        request = request.header(k, v);
    }
    let outcome = match request.send().await {
        Ok(response) => response.text().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(
        outcome.is_err(),
        "a dropped request must not read as an answer"
    );
    assert!(
        sim.handle.k3_bill("PUR_PurchaseOrder", "CG-HOLD").is_none(),
        "dropped before processing"
    );

    sim.handle.set_faults(
        System::K3cloud,
        Faults {
            timeout_rate: 1.0,
            timeout_hold_ms: 50,
            timeout_mode: TimeoutMode::Late,
            ..Faults::default()
        },
    );
    let reply = sim.k3("DynamicFormService.Save", &save).await;
    assert_eq!(
        reply["Result"]["ResponseStatus"]["IsSuccess"], true,
        "{reply}"
    );
    assert!(sim.handle.k3_bill("PUR_PurchaseOrder", "CG-HOLD").is_some());
}

#[tokio::test]
async fn sessions_expire_every_nth_request() {
    let sim = start_with(|c| {
        c.faults.insert(
            System::K3cloud,
            Faults {
                session_expire_every: Some(3),
                ..Faults::default()
            },
        );
    });
    let query = json!({"data": {"FormId": "ORG_Organizations", "FieldKeys": "FNumber"}});
    let sid = sim.k3_login().await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        let reply = sim
            .k3_session("DynamicFormService.ExecuteBillQuery", &sid, &query)
            .await;
        codes.push(
            reply[0][0]["Result"]["ResponseStatus"]["MsgCode"]
                .as_i64()
                .unwrap_or(0),
        );
    }
    assert_eq!(codes, vec![0, 0, 1]);
    let again = sim
        .k3_session("DynamicFormService.ExecuteBillQuery", &sid, &query)
        .await;
    assert_eq!(
        again[0][0]["Result"]["ResponseStatus"]["MsgCode"], 1,
        "all sessions expired"
    );
}

#[tokio::test]
async fn faults_are_set_over_http_too() {
    let sim = start();
    let response = sim
        .http
        .put(sim.url("/_sim/faults/jst"))
        .json(&json!({"error_rate": 1.0, "error_status": 502}))
        .send()
        .await
        .expect("answered");
    assert!(response.status().is_success());
    assert_eq!(sim.handle.faults(System::Jst).error_status, 502);
    let bad = sim
        .http
        .put(sim.url("/_sim/faults/jst"))
        .json(&json!({"colour": 1}))
        .send()
        .await
        .expect("answered");
    assert_eq!(bad.status().as_u16(), 400);
}
