//! 金蝶云星空 WebAPI.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use weft_sim::System;
use weft_sim::signing::kingdee;

use crate::common::{Sim, purchase_order_model, start};

async fn save(sim: &Sim, form: &str, model: Value) -> Value {
    sim.k3(
        "DynamicFormService.Save",
        &json!({"formid": form, "data": {"Model": model, "IsAutoSubmitAndAudit": "true"}}),
    )
    .await
}

fn status(reply: &Value) -> &Value {
    &reply["Result"]["ResponseStatus"]
}

#[tokio::test]
async fn signed_headers_save_a_purchase_order() {
    let sim = start();
    let reply = save(
        &sim,
        "PUR_PurchaseOrder",
        purchase_order_model("CG-T-1", "SKU00001"),
    )
    .await;
    assert_eq!(status(&reply)["IsSuccess"], true, "{reply}");
    let id = reply["Result"]["Id"].as_i64().expect("numeric Id");
    assert_eq!(reply["Result"]["Number"], "CG-T-1");
    assert_eq!(
        status(&reply)["SuccessEntitys"],
        json!([{"Id": id, "Number": "CG-T-1", "DIndex": 0}])
    );
    let stored = sim
        .handle
        .k3_bill("PUR_PurchaseOrder", "CG-T-1")
        .expect("stored");
    assert_eq!(stored["FID"], id);
}

#[tokio::test]
async fn wrong_signatures_lose_the_session() {
    let sim = start();
    let path = Sim::k3_path("DynamicFormService.Save");
    let body = json!({"formid": "PUR_PurchaseOrder", "data": {"Model": purchase_order_model("CG-T-2", "SKU00001")}});
    let mut headers = sim.k3_signed_headers(&path, "not-the-app-secret");
    let reply = sim.k3_post(&path, &headers, &body).await;
    assert_eq!(status(&reply)["IsSuccess"], false, "{reply}");
    assert_eq!(status(&reply)["MsgCode"], 1);
    assert!(
        reply.to_string().contains(",\"IsSuccess\":false,"),
        "the Java SDK's failure probe must match"
    );
    let message = status(&reply)["Errors"][0]["Message"]
        .as_str()
        .expect("message");
    assert!(
        message.starts_with("会话信息已丢失，请重新登录"),
        "{message}"
    );
    assert!(message.contains("X-Kd-Signature"), "{message}");

    let secret = sim.handle.config().credentials.k3cloud.app_secret.clone();
    headers = sim.k3_signed_headers(&path, &secret);
    for (k, v) in headers.iter_mut() {
        if k == "X-Api-Signature" {
            *v = kingdee::hmac_sha256_b64hex("tampered", "key");
        }
    }
    let reply = sim.k3_post(&path, &headers, &body).await;
    assert!(
        status(&reply)["Errors"][0]["Message"]
            .as_str()
            .unwrap_or_default()
            .contains("X-Api-Signature"),
        "{reply}"
    );
    assert!(sim.handle.k3_bill("PUR_PurchaseOrder", "CG-T-2").is_none());
}

#[tokio::test]
async fn sessions_log_in_expire_and_log_in_again() {
    let sim = start();
    let query = json!({"data": {"FormId": "BD_MATERIAL", "FieldKeys": "FNumber", "Limit": 1}});
    let sid = sim.k3_login().await;
    let rows = sim
        .k3_session("DynamicFormService.ExecuteBillQuery", &sid, &query)
        .await;
    assert_eq!(rows, json!([["SKU00001"]]));
    sim.handle.expire_k3_sessions();
    let lost = sim
        .k3_session("DynamicFormService.ExecuteBillQuery", &sid, &query)
        .await;
    let status = &lost[0][0]["Result"]["ResponseStatus"];
    assert_eq!(status["MsgCode"], 1, "{lost}");
    assert_eq!(status["Errors"][0]["Message"], "会话信息已丢失，请重新登录");
    let sid = sim.k3_login().await;
    assert_eq!(
        sim.k3_session("DynamicFormService.ExecuteBillQuery", &sid, &query)
            .await,
        rows
    );
    let none = sim
        .k3_post(
            &Sim::k3_path("DynamicFormService.ExecuteBillQuery"),
            &[],
            &query,
        )
        .await;
    assert_eq!(none[0][0]["Result"]["ResponseStatus"]["MsgCode"], 1);
}

#[tokio::test]
async fn app_secret_and_sign_logins() {
    let sim = start();
    let c = sim.handle.config().credentials.k3cloud.clone();
    let reply = sim
        .k3_post(
            &Sim::k3_path("AuthService.LoginByAppSecret"),
            &[],
            &json!({"parameters": [c.acct_id, c.username, c.app_id, c.app_secret, 2052]}),
        )
        .await;
    assert_eq!(reply["LoginResultType"], 1, "{reply}");
    let ts = weft_sim::clock::now_unix().to_string();
    let sign = kingdee::k3_login_sign(&c.acct_id, &c.username, &c.app_id, &c.app_secret, &ts);
    let reply = sim
        .k3_post(
            &Sim::k3_path("AuthService.LoginBySign"),
            &[],
            &json!({"parameters": [c.acct_id, c.username, c.app_id, ts, sign, 2052]}),
        )
        .await;
    assert_eq!(reply["LoginResultType"], 1, "{reply}");
    let reply = sim
        .k3_post(
            &Sim::k3_path("AuthService.LoginBySign"),
            &[],
            &json!({"parameters": [c.acct_id, c.username, c.app_id, ts, "0".repeat(64), 2052]}),
        )
        .await;
    assert_eq!(reply["LoginResultType"], -1, "{reply}");
    let reply = sim
        .k3_post(
            &Sim::k3_path("AuthService.ValidateUser"),
            &[],
            &json!({"acctid": c.acct_id, "username": c.username, "password": "wrong", "lcid": 2052}),
        )
        .await;
    assert_eq!(reply["LoginResultType"], 0, "{reply}");
}

#[tokio::test]
async fn unknown_base_data_is_msg_code_9() {
    let sim = start();
    let reply = save(
        &sim,
        "PUR_PurchaseOrder",
        purchase_order_model("CG-T-3", "NO-SUCH-SKU"),
    )
    .await;
    let s = status(&reply);
    assert_eq!(s["IsSuccess"], false);
    assert_eq!(s["ErrorCode"], 500);
    assert_eq!(s["MsgCode"], 9, "{reply}");
    assert_eq!(s["Errors"][0]["FieldName"], "FMaterialId");
    assert_eq!(
        s["Errors"][0]["Message"],
        "第1行分录，物料编码“NO-SUCH-SKU”不存在"
    );
    let mut model = purchase_order_model("CG-T-4", "SKU00001");
    model["FSupplierId"] = json!({"FNumber": "9999"});
    let reply = save(&sim, "PUR_PurchaseOrder", model).await;
    assert_eq!(
        status(&reply)["Errors"][0]["Message"],
        "供应商编码“9999”不存在",
        "{reply}"
    );
}

#[tokio::test]
async fn missing_required_fields_are_msg_code_11() {
    let sim = start();
    let mut model = purchase_order_model("CG-T-5", "SKU00001");
    model.as_object_mut().expect("object").remove("FSupplierId");
    model["FPOOrderEntry"][0]
        .as_object_mut()
        .expect("object")
        .remove("FQty");
    let reply = save(&sim, "PUR_PurchaseOrder", model).await;
    let errors = status(&reply)["Errors"].as_array().expect("errors").clone();
    assert_eq!(status(&reply)["MsgCode"], 11, "{reply}");
    let fields: Vec<&str> = errors
        .iter()
        .filter_map(|e| e["FieldName"].as_str())
        .collect();
    assert_eq!(fields, vec!["FSupplierId", "FQty"]);
    assert_eq!(errors[1]["Message"], "第1行分录，字段“采购数量”是必填项");
}

#[tokio::test]
async fn duplicate_bill_numbers_are_refused_like_k3cloud() {
    let sim = start();
    let first = save(
        &sim,
        "PUR_PurchaseOrder",
        purchase_order_model("CG-DUP", "SKU00001"),
    )
    .await;
    assert_eq!(status(&first)["IsSuccess"], true);
    let again = save(
        &sim,
        "PUR_PurchaseOrder",
        purchase_order_model("CG-DUP", "SKU00001"),
    )
    .await;
    let s = status(&again);
    assert_eq!(s["MsgCode"], 11, "{again}");
    assert_eq!(s["Errors"][0]["FieldName"], "FBillNo");
    assert_eq!(
        s["Errors"][0]["Message"],
        "违反字段唯一性要求：单据编号唯一。[CG-DUP]已经被使用。"
    );
    let log = sim.handle.received(System::K3cloud, "PUR_PurchaseOrder");
    assert_eq!(log.counts["CG-DUP"].received, 2);
    assert_eq!(log.counts["CG-DUP"].accepted, 1);
    assert!(log.duplicates().is_empty());
    // An update by FID is not a duplicate.
    let mut model = purchase_order_model("CG-DUP", "SKU00003");
    model["FID"] = first["Result"]["Id"].clone();
    let updated = save(&sim, "PUR_PurchaseOrder", model).await;
    assert_eq!(status(&updated)["IsSuccess"], true, "{updated}");
    assert_eq!(updated["Result"]["Id"], first["Result"]["Id"]);
}

#[tokio::test]
async fn batch_save_keeps_the_good_models() {
    let sim = start();
    save(
        &sim,
        "PUR_PurchaseOrder",
        purchase_order_model("CG-B-0", "SKU00001"),
    )
    .await;
    let body = json!({"formid": "PUR_PurchaseOrder", "data": {
        "Model": [
            purchase_order_model("CG-B-1", "SKU00001"),
            purchase_order_model("CG-B-2", "NO-SUCH"),
            purchase_order_model("CG-B-0", "SKU00001"),
            purchase_order_model("CG-B-3", "SKU00004"),
        ],
        "NeedReturnFields": ["FBillNo", "FID"]
    }});
    let reply = sim.k3("DynamicFormService.BatchSave", &body).await;
    let s = status(&reply);
    assert_eq!(s["IsSuccess"], false, "{reply}");
    let saved: Vec<(i64, String)> = s["SuccessEntitys"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| {
            (
                e["DIndex"].as_i64().unwrap_or(-1),
                e["Number"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(saved, vec![(0, "CG-B-1".into()), (3, "CG-B-3".into())]);
    let failed: Vec<i64> = s["Errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["DIndex"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(failed, vec![1, 2]);
    assert_eq!(reply["Result"]["NeedReturnData"][1]["FBillNo"], "CG-B-3");
    assert_eq!(sim.handle.k3_bill_count("PUR_PurchaseOrder"), 3);
}

#[tokio::test]
async fn java_style_parameters_and_case_insensitive_paths() {
    let sim = start();
    let data = json!({"Model": purchase_order_model("CG-J-1", "SKU00001")}).to_string();
    let path = "/K3Cloud/kingdee.bos.webapi.servicesstub.dynamicformservice.save.common.kdsvc";
    let secret = sim.handle.config().credentials.k3cloud.app_secret.clone();
    let headers = sim.k3_signed_headers(path, &secret);
    let reply = sim
        .k3_post(
            path,
            &headers,
            &json!({"parameters": ["PUR_PurchaseOrder", data]}),
        )
        .await;
    assert_eq!(status(&reply)["IsSuccess"], true, "{reply}");
}

#[tokio::test]
async fn execute_bill_query_looks_up_master_data_and_pages() {
    let sim = start();
    let by_string = sim
        .k3(
            "DynamicFormService.ExecuteBillQuery",
            &json!({"data": {"FormId": "BD_MATERIAL", "FieldKeys": "FMaterialId,FNumber,FName,FUseOrgId.FNumber",
                              "FilterString": "FNumber = 'SKU00007'"}}),
        )
        .await;
    assert_eq!(by_string.as_array().map(Vec::len), Some(1), "{by_string}");
    assert_eq!(by_string[0][1], "SKU00007");
    assert_eq!(by_string[0][3], "100");
    let by_array = sim
        .k3(
            "DynamicFormService.ExecuteBillQuery",
            &json!({"data": {"FormId": "BD_Supplier", "FieldKeys": "FNumber",
                "FilterString": [{"Left": "(", "FieldName": "FNumber", "Compare": "67", "Value": "0003", "Right": ")", "Logic": "0"}]}}),
        )
        .await;
    assert_eq!(by_array, json!([["0003"]]));
    let mut seen = BTreeSet::new();
    for page in 0..10 {
        let rows = sim
            .k3(
                "DynamicFormService.ExecuteBillQuery",
                &json!({"data": {"FormId": "BD_MATERIAL", "FieldKeys": "FNumber", "StartRow": page * 64, "Limit": 64}}),
            )
            .await;
        let rows = rows.as_array().expect("rows").clone();
        seen.extend(rows.iter().map(|r| r[0].to_string()));
        if rows.len() < 64 {
            break;
        }
    }
    assert_eq!(seen.len(), sim.handle.master().materials.len());
    for (form, key) in [
        ("BD_Customer", "10001"),
        ("BD_STOCK", "WH001"),
        ("ORG_Organizations", "100"),
    ] {
        let rows = sim
            .k3(
                "DynamicFormService.ExecuteBillQuery",
                &json!({"data": {"FormId": form, "FieldKeys": "FNumber", "FilterString": format!("FNumber='{key}'")}}),
            )
            .await;
        assert_eq!(rows, json!([[key]]), "{form}");
    }
}

#[tokio::test]
async fn execute_bill_query_checks_bill_existence() {
    let sim = start();
    for no in ["CG-Q-1", "CG-Q-2"] {
        save(
            &sim,
            "PUR_PurchaseOrder",
            purchase_order_model(no, "SKU00001"),
        )
        .await;
    }
    let rows = sim
        .k3(
            "DynamicFormService.ExecuteBillQuery",
            &json!({"data": {"FormId": "PUR_PurchaseOrder", "FieldKeys": "FID,FBillNo,FDocumentStatus",
                             "FilterString": "FBillNo in ('CG-Q-1','CG-Q-2','CG-Q-9')"}}),
        )
        .await;
    let numbers: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r[1].as_str())
        .collect();
    assert_eq!(numbers, vec!["CG-Q-1", "CG-Q-2"]);
    assert_eq!(rows[0][2], "C");
    let entries = sim
        .k3(
            "DynamicFormService.ExecuteBillQuery",
            &json!({"data": {"FormId": "PUR_PurchaseOrder",
                             "FieldKeys": "FBillNo,FPOOrderEntry_FEntryID,FMaterialId.FNumber,FQty,FSupplierId.FNumber",
                             "FilterString": [{"FieldName": "FBillNo", "Compare": "67", "Value": "CG-Q-2", "Logic": "0"}]}}),
        )
        .await;
    assert_eq!(entries.as_array().map(Vec::len), Some(2), "{entries}");
    assert_eq!(entries[0][2], "SKU00001");
    assert_eq!(entries[0][3], 10.0);
    assert_eq!(entries[1][4], "0003");
    let bad = sim
        .k3(
            "DynamicFormService.ExecuteBillQuery",
            &json!({"data": {"FormId": "PUR_PurchaseOrder", "FieldKeys": "FBillNo,FIssueType"}}),
        )
        .await;
    let s = &bad[0][0]["Result"]["ResponseStatus"];
    assert_eq!(s["MsgCode"], 9, "{bad}");
    assert_eq!(
        s["Errors"][0]["Message"],
        "元数据中标识为FIssueType的字段不存在"
    );
}

#[tokio::test]
async fn view_by_number_and_id() {
    let sim = start();
    let saved = save(
        &sim,
        "PUR_PurchaseOrder",
        purchase_order_model("CG-V-1", "SKU00001"),
    )
    .await;
    let id = saved["Result"]["Id"].clone();
    let by_number = sim
        .k3(
            "DynamicFormService.View",
            &json!({"formid": "PUR_PurchaseOrder", "data": {"Number": "CG-V-1"}}),
        )
        .await;
    assert_eq!(
        by_number["Result"]["ResponseStatus"]["IsSuccess"], true,
        "{by_number}"
    );
    let bill = &by_number["Result"]["Result"];
    assert_eq!(bill["Id"], id);
    assert_eq!(bill["BillNo"], "CG-V-1");
    assert_eq!(bill["SupplierId"]["Number"], "0003");
    assert_eq!(bill["POOrderEntry"][0]["MaterialId"]["Number"], "SKU00001");
    let by_id = sim
        .k3(
            "DynamicFormService.View",
            &json!({"formid": "PUR_PurchaseOrder", "data": {"Id": id.to_string()}}),
        )
        .await;
    assert_eq!(by_id["Result"]["Result"]["BillNo"], "CG-V-1");
    let missing = sim
        .k3(
            "DynamicFormService.View",
            &json!({"formid": "PUR_PurchaseOrder", "data": {"Number": "NOPE"}}),
        )
        .await;
    assert_eq!(
        missing["Result"]["ResponseStatus"]["MsgCode"], 10,
        "{missing}"
    );
}

#[tokio::test]
async fn sales_forms_validate_customers_and_stocks() {
    let sim = start();
    let good = json!({
        "FBillTypeID": {"FNUMBER": "XSTHD01_SYS"}, "FBillNo": "1000001", "FSaleOrgId": {"FNumber": "100"},
        "FDate": "2024-01-03 12:00:00", "FStockOrgId": {"FNumber": "100"}, "FRetcustId": {"FNumber": "10001"},
        "FSettleCurrId": {"FNumber": "PRE001"},
        "FEntity": [{"FMaterialId": {"FNumber": "SKU00010"}, "FRealQty": 1, "FPrice": 99.0,
                     "FOwnerTypeId": "BD_OwnerOrg", "FOwnerId": {"FNumber": "100"}, "FStockId": {"FNumber": "1"}}]
    });
    let reply = save(&sim, "SAL_RETURNSTOCK", good.clone()).await;
    assert_eq!(status(&reply)["IsSuccess"], true, "{reply}");
    let mut bad = good;
    bad["FBillNo"] = json!("1000002");
    bad["FEntity"][0]["FStockId"] = json!({"FNumber": "NO-STOCK"});
    let reply = save(&sim, "SAL_RETURNSTOCK", bad).await;
    assert_eq!(
        status(&reply)["Errors"][0]["Message"],
        "第1行分录，仓库编码“NO-STOCK”不存在",
        "{reply}"
    );
    let out = json!({
        "FBillTypeID": {"FNUMBER": "XSCKD01_SYS"}, "FBillNo": "JY0000000001", "FDate": "2024-01-03",
        "FSaleOrgID": {"FNumber": "100"}, "FCustomerID": {"FNumber": "CUST0001"}, "FStockOrgID": {"FNumber": "100"},
        "FEntity": [{"FMaterialID": {"FNumber": "SKU00001"}, "FRealQty": "2", "FStockID": {"FNumber": "WH001"}}]
    });
    let reply = save(&sim, "SAL_OUTSTOCK", out).await;
    assert_eq!(status(&reply)["IsSuccess"], true, "{reply}");
}
