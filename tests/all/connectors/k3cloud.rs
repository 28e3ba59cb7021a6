//! `k3cloud` (金蝶云星空 WebAPI) against the simulator: check in both auth
//! modes, Save and BatchSave of purchase orders, sales returns and sales
//! stock-outs built from the simulator's master data, per-record outcomes,
//! idempotent replays, lost sessions renewed, ExecuteBillQuery paging, and
//! classified faults.

use serde_json::{Value, json};
use weft_runtime::{ErrorClass, WriteOutcome};
use weft_sim::{Faults, System};

use super::{
    Rig, SHORT_HTTP_TIMEOUT, assert_error, failure, held, keys, logged, read_pages, records,
    refused, server_errors, throttled, written,
};

const UNKNOWN_MATERIAL: &str = "NO-SUCH-SKU";

async fn rig() -> Rig {
    Rig::start("k3cloud", |_| {}).await
}

/// A session-mode connection (ValidateUser).
fn session_config(rig: &Rig) -> Value {
    let c = &rig.sim.config().credentials.k3cloud;
    json!({"base_url": rig.sim.k3cloud_url(), "auth_mode": "session", "acctid": c.acct_id,
        "username": c.username, "password": c.password})
}

/// A signed-mode connection (X-Api / X-Kd headers, no login).
fn signed_config(rig: &Rig) -> Value {
    let c = &rig.sim.config().credentials.k3cloud;
    json!({"base_url": rig.sim.k3cloud_url(), "auth_mode": "signed", "acctid": c.acct_id,
        "username": c.username, "appid": c.app_id, "appsecret": c.app_secret})
}

/// Codes of the simulator's master data that a straightforward mapping
/// uses.
struct Codes {
    org: String,
    supplier: String,
    customer: String,
    stock: String,
    currency: String,
    unit: String,
    materials: Vec<String>,
}

impl Codes {
    fn of(rig: &Rig) -> Codes {
        let m = rig.sim.master();
        Codes {
            org: m.orgs[0].number.clone(),
            supplier: m.suppliers[2].number.clone(),
            customer: m.customers[0].number.clone(),
            stock: m.warehouses[0].number.clone(),
            currency: m.currencies[0].number.clone(),
            unit: m.units[0].number.clone(),
            materials: m
                .materials
                .iter()
                .take(3)
                .map(|x| x.number.clone())
                .collect(),
        }
    }

    fn purchase_order(&self, number: &str, material: &str) -> Value {
        json!({
            "FBillNo": number, "FDate": "2024-01-05 10:00:00",
            "FBillTypeID": {"FNUMBER": "CGDD01_SYS"},
            "FPurchaseOrgId": {"FNumber": self.org}, "FSupplierId": {"FNumber": self.supplier},
            "FSettleCurrId": {"FNumber": self.currency},
            "FPOOrderEntry": [
                {"FMaterialId": {"FNumber": material}, "FUnitId": {"FNumber": self.unit},
                 "FQty": 10, "FPrice": "12.5", "FEntryNote": "line 1"},
                {"FMaterialId": {"FNumber": self.materials[1]}, "FQty": "3.0000", "FPrice": 8}
            ]
        })
    }

    fn sales_return(&self, number: &str, material: &str) -> Value {
        json!({
            "FBillNo": number, "FDate": "2024-01-06",
            "FBillTypeID": {"FNumber": "XSTHD01_SYS"},
            "FSaleOrgId": {"FNumber": self.org}, "FStockOrgId": {"FNumber": self.org},
            "FRetcustId": {"FNumber": self.customer}, "FSettleCurrId": {"FNumber": self.currency},
            "FEntity": [
                {"FMaterialId": {"FNumber": material}, "FUnitID": {"FNumber": self.unit},
                 "FRealQty": 2, "FPrice": 30, "FStockId": {"FNumber": self.stock},
                 "FOwnerTypeId": "BD_OwnerOrg", "FOwnerId": {"FNumber": self.org}}
            ]
        })
    }

    fn sales_outstock(&self, number: &str, material: &str) -> Value {
        json!({
            "FBillNo": number, "FDate": "2024-01-07 09:30:00",
            "FBillTypeID": {"FNumber": "XSCKD01_SYS"},
            "FSaleOrgId": {"FNumber": self.org}, "FStockOrgId": {"FNumber": self.org},
            "FCustomerID": {"FNumber": self.customer},
            "FEntity": [
                {"FMaterialID": {"FNumber": material}, "FUnitID": {"FNumber": self.unit},
                 "FRealQty": 1, "FPrice": 99, "FStockID": {"FNumber": self.stock}},
                {"FMaterialID": {"FNumber": self.materials[2]}, "FRealQty": 4}
            ]
        })
    }
}

/// The written outcomes' ids, checked against what K3Cloud holds.
fn assert_held(rig: &Rig, form: &str, outcomes: &[WriteOutcome], numbers: &[&str], existed: bool) {
    for (outcome, number) in outcomes.iter().zip(numbers) {
        let (id, got, was) = written(outcome);
        assert_eq!((got, was), (Some(*number), existed), "{outcome:?}");
        let bill = rig
            .sim
            .k3_bill(form, number)
            .unwrap_or_else(|| panic!("K3Cloud holds {number}"));
        assert_eq!(id, Some(bill["FID"].to_string().as_str()), "{bill}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_in_both_auth_modes_and_wrong_credentials_are_named() {
    let rig = rig().await;
    let c = rig.sim.config().credentials.k3cloud.clone();
    let mut app_logins = Vec::new();
    for login in ["app_secret", "sign"] {
        let mut config = session_config(&rig);
        config["login"] = json!(login);
        config["appid"] = json!(c.app_id);
        config["appsecret"] = json!(c.app_secret);
        app_logins.push(config);
    }
    for good in [session_config(&rig), signed_config(&rig)]
        .into_iter()
        .chain(app_logins)
    {
        let login = good["login"].clone();
        rig.session(good)
            .await
            .check()
            .await
            .unwrap_or_else(|e| panic!("the simulator's credentials pass ({login}): {e}"));
    }
    let cases = [
        (
            session_config(&rig),
            "password",
            "WRONG-secret",
            "用户名或密码错误",
        ),
        (session_config(&rig), "acctid", "no-such-dc", "acctid"),
        (
            signed_config(&rig),
            "appsecret",
            "0123456789abcdef0123456789abcdef",
            "X-Kd-Signature",
        ),
        (
            signed_config(&rig),
            "appid",
            "203502_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "appid",
        ),
    ];
    for (mut config, field, value, name) in cases {
        config[field] = json!(value);
        let mut s = rig.session(config).await;
        assert_error(&failure(s.check().await), ErrorClass::Auth, &[field, name]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_save_purchase_orders_is_per_record_and_idempotent() {
    let rig = rig().await;
    let codes = Codes::of(&rig);
    let form = "PUR_PurchaseOrder";
    let batch = vec![
        codes.purchase_order("CG-W-1", &codes.materials[0]),
        codes.purchase_order("CG-W-2", UNKNOWN_MATERIAL),
        codes.purchase_order("CG-W-3", &codes.materials[2]),
    ];
    let params = json!({"formid": form, "IsAutoSubmitAndAudit": true});
    let mut s = rig.session(session_config(&rig)).await;

    let first = s
        .write("batch_save", &params, &batch)
        .await
        .expect("the batch gets outcomes");
    assert_held(
        &rig,
        form,
        &[first[0].clone(), first[2].clone()],
        &["CG-W-1", "CG-W-3"],
        false,
    );
    let error = refused(&first[1]);
    assert_error(
        error,
        ErrorClass::Invalid,
        &[
            "CG-W-2",
            "FMaterialId",
            "第1行分录，物料编码“NO-SUCH-SKU”不存在",
        ],
    );
    assert!(rig.sim.k3_bill(form, "CG-W-2").is_none());
    assert_eq!(rig.sim.k3_bill_count(form), 2);

    let replay = s
        .write("batch_save", &params, &batch)
        .await
        .expect("the replay gets outcomes");
    assert_held(
        &rig,
        form,
        &[replay[0].clone(), replay[2].clone()],
        &["CG-W-1", "CG-W-3"],
        true,
    );
    assert_eq!(written(&replay[0]).0, written(&first[0]).0, "the same bill");
    assert_eq!(refused(&replay[1]).class, ErrorClass::Invalid);

    assert_eq!(rig.sim.k3_bill_count(form), 2);
    let log = rig.sim.received(System::K3cloud, form);
    assert!(log.duplicates().is_empty());
    for number in ["CG-W-1", "CG-W-3"] {
        let count = log.counts[number];
        assert_eq!((count.received, count.accepted), (1, 1), "{number}");
    }
    assert_eq!(log.counts["CG-W-2"].accepted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_sales_returns_with_signed_headers_is_idempotent() {
    let rig = rig().await;
    let codes = Codes::of(&rig);
    let form = "SAL_RETURNSTOCK";
    let batch = vec![
        codes.sales_return("XSTH-1", &codes.materials[0]),
        codes.sales_return("XSTH-2", UNKNOWN_MATERIAL),
        codes.sales_return("XSTH-3", &codes.materials[1]),
    ];
    let params = json!({"formid": form});
    let mut s = rig.session(signed_config(&rig)).await;
    let first = s
        .write("save", &params, &batch)
        .await
        .expect("the batch gets outcomes");
    assert_held(
        &rig,
        form,
        &[first[0].clone(), first[2].clone()],
        &["XSTH-1", "XSTH-3"],
        false,
    );
    assert_error(
        refused(&first[1]),
        ErrorClass::Invalid,
        &["XSTH-2", "物料编码“NO-SUCH-SKU”不存在"],
    );

    let replay = s
        .write("save", &params, &batch)
        .await
        .expect("the replay gets outcomes");
    assert_held(
        &rig,
        form,
        &[replay[0].clone(), replay[2].clone()],
        &["XSTH-1", "XSTH-3"],
        true,
    );
    assert_eq!(rig.sim.k3_bill_count(form), 2);
    let log = rig.sim.received(System::K3cloud, form);
    assert!(log.duplicates().is_empty());
    assert_eq!(log.counts["XSTH-1"].received, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_outstocks_in_both_operations_and_both_modes() {
    let rig = rig().await;
    let codes = Codes::of(&rig);
    let form = "SAL_OUTSTOCK";
    let params = json!({"formid": form, "IsAutoSubmitAndAudit": true});
    let mut signed = rig.session(signed_config(&rig)).await;
    let mut session = rig.session(session_config(&rig)).await;

    let a = vec![
        codes.sales_outstock("XSCK-1", &codes.materials[0]),
        codes.sales_outstock("XSCK-2", &codes.materials[1]),
    ];
    let out = signed
        .write("batch_save", &params, &a)
        .await
        .expect("outcomes");
    assert_held(&rig, form, &out, &["XSCK-1", "XSCK-2"], false);

    // The other mode and the other operation see the same bills.
    let b = vec![
        codes.sales_outstock("XSCK-2", &codes.materials[1]),
        codes.sales_outstock("XSCK-3", &codes.materials[0]),
        // The same number twice in one batch is one bill.
        codes.sales_outstock("XSCK-3", &codes.materials[0]),
    ];
    let out = session.write("save", &params, &b).await.expect("outcomes");
    assert_held(&rig, form, &out[..1], &["XSCK-2"], true);
    assert_held(&rig, form, &out[1..2], &["XSCK-3"], false);
    assert_held(&rig, form, &out[2..], &["XSCK-3"], true);
    assert_eq!(rig.sim.k3_bill_count(form), 3);
    assert!(
        rig.sim
            .received(System::K3cloud, form)
            .duplicates()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_without_a_bill_number_is_refused_before_any_call() {
    let rig = rig().await;
    let codes = Codes::of(&rig);
    let mut model = codes.purchase_order("", &codes.materials[0]);
    model["FBillNo"] = Value::Null;
    let mut s = rig.session(signed_config(&rig)).await;
    let out = s
        .write(
            "batch_save",
            &json!({"formid": "PUR_PurchaseOrder"}),
            &[model],
        )
        .await
        .expect("outcomes");
    assert_error(refused(&out[0]), ErrorClass::Invalid, &["FBillNo"]);
    assert_eq!(rig.sim.k3_bill_count("PUR_PurchaseOrder"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_lost_within_a_call_is_renewed() {
    let rig = rig().await;
    let codes = Codes::of(&rig);
    // The existence query is the first session request, the BatchSave the
    // second: the save finds its session gone.
    rig.sim.set_faults(
        System::K3cloud,
        Faults {
            session_expire_every: Some(2),
            ..Faults::default()
        },
    );
    let mut s = rig.session(session_config(&rig)).await;
    let batch = vec![codes.purchase_order("CG-S-1", &codes.materials[0])];
    let out = s
        .write(
            "batch_save",
            &json!({"formid": "PUR_PurchaseOrder"}),
            &batch,
        )
        .await
        .expect("the save goes through a new session");
    assert_held(&rig, "PUR_PurchaseOrder", &out, &["CG-S-1"], false);
    assert!(logged(&mut s, "lost the session"));
    assert_eq!(
        rig.sim
            .received(System::K3cloud, "PUR_PurchaseOrder")
            .counts["CG-S-1"]
            .received,
        1,
        "the refused call never reached the form"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expired_between_calls_are_renewed() {
    let rig = rig().await;
    let codes = Codes::of(&rig);
    let params = json!({"formid": "SAL_RETURNSTOCK"});
    let mut s = rig.session(session_config(&rig)).await;
    let out = s
        .write(
            "save",
            &params,
            &[codes.sales_return("XSTH-E-1", &codes.materials[0])],
        )
        .await
        .expect("outcomes");
    assert_held(&rig, "SAL_RETURNSTOCK", &out, &["XSTH-E-1"], false);
    s.take_log();

    rig.sim.expire_k3_sessions();
    let out = s
        .write(
            "save",
            &params,
            &[codes.sales_return("XSTH-E-2", &codes.materials[0])],
        )
        .await
        .expect("the call after the expiry goes through");
    assert_held(&rig, "SAL_RETURNSTOCK", &out, &["XSTH-E-2"], false);
    assert!(
        logged(&mut s, "lost the session"),
        "the batch's session was reused and renewed once lost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_bill_query_pages_by_start_row() {
    let rig = rig().await;
    let codes = Codes::of(&rig);
    let numbers: Vec<String> = (1..=5).map(|i| format!("CG-Q-{i}")).collect();
    let batch: Vec<Value> = numbers
        .iter()
        .map(|n| codes.purchase_order(n, &codes.materials[0]))
        .collect();
    let mut s = rig.session(signed_config(&rig)).await;
    s.write(
        "batch_save",
        &json!({"formid": "PUR_PurchaseOrder"}),
        &batch,
    )
    .await
    .expect("saved");
    let params = json!({"FormId": "PUR_PurchaseOrder", "FieldKeys": "FID,FBillNo,FSupplierId.FNumber",
        "FilterString": "FBillNo like 'CG-Q-%'", "OrderString": "FBillNo ASC", "Limit": 2});
    let pages = read_pages(&mut s, "execute_bill_query", &params).await;
    assert_eq!(pages.len(), 3);
    let got = records(&pages);
    assert_eq!(keys(&got, "FBillNo"), numbers);
    assert!(
        got.iter()
            .all(|r| r["FSupplierId.FNumber"] == codes.supplier.as_str())
    );

    let error = failure(
        s.read(
            "execute_bill_query",
            &json!({"FormId": "PUR_PurchaseOrder", "FieldKeys": "FNoSuchField"}),
            None,
        )
        .await,
    );
    assert_error(&error, ErrorClass::Invalid, &["MsgCode 9", "FNoSuchField"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_classified_in_both_modes() {
    let rig = rig().await;
    let codes = Codes::of(&rig);
    let params = json!({"formid": "PUR_PurchaseOrder"});
    let batch = vec![codes.purchase_order("CG-F-1", &codes.materials[0])];
    for config in [session_config(&rig), signed_config(&rig)] {
        let mode = config["auth_mode"].clone();
        let mut s = rig.session(config).await;

        rig.sim.set_faults(System::K3cloud, server_errors());
        let error = failure(s.write("batch_save", &params, &batch).await);
        assert_eq!(error.class, ErrorClass::Transient, "{mode}: {error}");

        rig.sim.set_faults(System::K3cloud, throttled());
        let error = failure(s.write("batch_save", &params, &batch).await);
        assert_error(&error, ErrorClass::RateLimited, &["调用频率超过限制"]);
        rig.sim.clear_faults();
    }
    assert_eq!(rig.sim.k3_bill_count("PUR_PurchaseOrder"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_request_times_out_as_transient() {
    let rig = Rig::with_http_timeout("k3cloud", SHORT_HTTP_TIMEOUT).await;
    rig.sim.set_faults(System::K3cloud, held());
    let codes = Codes::of(&rig);
    let mut s = rig.session(signed_config(&rig)).await;
    let error = failure(
        s.write(
            "batch_save",
            &json!({"formid": "PUR_PurchaseOrder"}),
            &[codes.purchase_order("CG-T-1", &codes.materials[0])],
        )
        .await,
    );
    assert_error(&error, ErrorClass::Transient, &["timed out"]);
}
