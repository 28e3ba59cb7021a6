//! Starting a simulator and talking to it the way each system's clients do.
//! Requests are signed with `weft_sim::signing`, whose published vectors
//! are unit-tested beside it.

use std::sync::Once;

use reqwest::StatusCode;
use serde_json::{Value, json};
use weft_sim::signing::{jackyun, jst, kingdee, top, wdt};
use weft_sim::{SimConfig, SimHandle, Simulator, clock};

pub struct Sim {
    pub handle: SimHandle,
    pub http: reqwest::Client,
}

static CRYPTO: Once = Once::new();

pub fn start() -> Sim {
    start_with(|_| {})
}

pub fn start_with(adjust: impl FnOnce(&mut SimConfig)) -> Sim {
    CRYPTO.call_once(|| {
        // reqwest may be built with rustls and no default provider when the
        // whole workspace is tested together.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let mut config = SimConfig::default();
    adjust(&mut config);
    let handle = Simulator::start(config).expect("simulator starts on a free loopback port");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("HTTP client builds");
    Sim { handle, http }
}

pub fn now_secs() -> String {
    clock::now_unix().to_string()
}

pub fn now_china() -> String {
    clock::format_china(clock::now_unix())
}

/// The dataset's first `modified` day, and a window of `days` from it.
pub fn window(sim: &Sim, days: i64) -> (String, String) {
    let base = sim.handle.config().dataset.base_time;
    (
        clock::format_china(base),
        clock::format_china(base + days * 86_400),
    )
}

pub async fn body_json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("reply body reads");
    let value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("reply is not JSON ({e}): {text}"));
    (status, value)
}

impl Sim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.origin())
    }

    /// `url(path)` with a form-encoded query string.
    pub fn url_with(&self, path: &str, query: &[(String, String)]) -> String {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        format!("{}{path}?{q}", self.handle.origin())
    }

    // ------------------------------------------------------------ 旺店通

    /// The form fields of a signed 旺店通 call (sid, appkey, timestamp, sign).
    pub fn wdt_form(&self, params: &[(&str, &str)]) -> Vec<(String, String)> {
        let creds = &self.handle.config().credentials.wdt;
        let mut fields: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        fields.push(("sid".into(), creds.sid.clone()));
        fields.push(("appkey".into(), creds.appkey.clone()));
        fields.push(("timestamp".into(), now_secs()));
        let sign = wdt::sign(
            fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &creds.appsecret,
        );
        fields.push(("sign".into(), sign));
        fields
    }

    pub async fn wdt_post(&self, name: &str, fields: &[(String, String)]) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/openapi2/{name}.php")))
            .form(fields)
            .send()
            .await
            .expect("旺店通 request is answered")
    }

    pub async fn wdt(&self, name: &str, params: &[(&str, &str)]) -> Value {
        let fields = self.wdt_form(params);
        body_json(self.wdt_post(name, &fields).await).await.1
    }

    // ------------------------------------------------------------ 奇门

    pub async fn qimen_with(
        &self,
        method: &str,
        target: &str,
        body: &Value,
        sign_method: top::SignMethod,
        secret: &str,
    ) -> Value {
        let creds = &self.handle.config().credentials.qimen;
        let body_text = body.to_string();
        let method_name = match sign_method {
            top::SignMethod::Md5 => "md5",
            top::SignMethod::Hmac => "hmac",
            top::SignMethod::HmacSha256 => "hmac-sha256",
        };
        let now = now_china();
        let mut params: Vec<(&str, &str)> = vec![
            ("method", method),
            ("app_key", &creds.app_key),
            ("target_app_key", target),
            ("customerId", &creds.customer_id),
            ("format", "json"),
            ("sign_method", method_name),
            ("timestamp", &now),
            ("v", "2.0"),
        ];
        let sign = top::sign(
            params.iter().copied(),
            Some(&body_text),
            secret,
            sign_method,
        );
        params.push(("sign", &sign));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let response = self
            .http
            .post(self.url(&format!("/router/qm?{query}")))
            .header("content-type", "application/json")
            .body(body_text)
            .send()
            .await
            .expect("奇门 request is answered");
        body_json(response).await.1
    }

    pub async fn qimen(&self, method: &str, body: &Value) -> Value {
        let creds = &self.handle.config().credentials.qimen;
        let target = if method.starts_with("jackyun") {
            &creds.jackyun_target_app_key
        } else {
            &creds.wdt_target_app_key
        };
        self.qimen_with(method, target, body, top::SignMethod::Md5, &creds.secret)
            .await
    }

    // ------------------------------------------------------------ 聚水潭

    pub async fn jst_signed(
        &self,
        path: &str,
        mut fields: Vec<(String, String)>,
        secret: &str,
    ) -> Value {
        fields.push((
            "app_key".into(),
            self.handle.config().credentials.jst.app_key.clone(),
        ));
        if !fields.iter().any(|(k, _)| k == "timestamp") {
            fields.push(("timestamp".into(), now_secs()));
        }
        fields.push(("charset".into(), "utf-8".into()));
        let sign = jst::sign(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())), secret);
        fields.push(("sign".into(), sign));
        let response = self
            .http
            .post(self.url(path))
            .form(&fields)
            .send()
            .await
            .expect("聚水潭 request is answered");
        body_json(response).await.1
    }

    pub async fn jst_refunds_with(&self, biz: &Value, token: &str) -> Value {
        let fields = vec![
            ("access_token".to_string(), token.to_string()),
            ("version".to_string(), "2".to_string()),
            ("biz".to_string(), biz.to_string()),
        ];
        let secret = self.handle.config().credentials.jst.app_secret.clone();
        self.jst_signed("/open/refund/single/query", fields, &secret)
            .await
    }

    pub async fn jst_refunds(&self, biz: &Value) -> Value {
        let token = self.handle.config().credentials.jst.access_token.clone();
        self.jst_refunds_with(biz, &token).await
    }

    // ------------------------------------------------------------ 吉客云

    pub async fn jackyun_with(&self, method: &str, biz: &Value, secret: &str) -> Value {
        let creds = &self.handle.config().credentials.jackyun;
        let now = now_china();
        let biz_text = biz.to_string();
        let mut fields: Vec<(&str, &str)> = vec![
            ("method", method),
            ("appkey", &creds.appkey),
            ("version", "v1.0"),
            ("contenttype", "json"),
            ("timestamp", &now),
            ("bizcontent", &biz_text),
        ];
        let sign = jackyun::sign(fields.iter().copied(), secret);
        fields.push(("sign", &sign));
        let response = self
            .http
            .post(self.url("/open/openapi/do"))
            .form(&fields)
            .send()
            .await
            .expect("吉客云 request is answered");
        body_json(response).await.1
    }

    pub async fn jackyun(&self, biz: &Value) -> Value {
        let secret = self.handle.config().credentials.jackyun.secret.clone();
        self.jackyun_with("jackyun.tradenotsensitiveinfos.list.get", biz, &secret)
            .await
    }

    // ------------------------------------------------------------ 金蝶云星空

    pub fn k3_path(service: &str) -> String {
        format!("/k3cloud/Kingdee.BOS.WebApi.ServicesStub.{service}.common.kdsvc")
    }

    /// The signed headers the official SDK sends (PROTOCOLS.md §1.2B).
    pub fn k3_signed_headers(&self, path: &str, app_secret: &str) -> Vec<(String, String)> {
        let c = &self.handle.config().credentials.k3cloud;
        let ts = now_secs();
        let (client_id, secrets) = kingdee::split_app_id(&c.app_id).expect("AppId has a client id");
        let text = kingdee::gateway_string_to_sign(
            "POST",
            path,
            "",
            &ts,
            &ts,
            kingdee::UrlEncoding::Rfc3986,
        );
        let app_data = format!("{},{},{},0", c.acct_id, c.username, c.lcid);
        vec![
            ("X-Api-ClientID".into(), client_id),
            ("X-Api-Auth-Version".into(), "2.0".into()),
            ("x-api-timestamp".into(), ts.clone()),
            ("x-api-nonce".into(), ts.clone()),
            (
                "x-api-signheaders".into(),
                "x-api-timestamp,x-api-nonce".into(),
            ),
            (
                "X-Api-Signature".into(),
                kingdee::hmac_sha256_b64hex(&text, &secrets[0]),
            ),
            ("X-Kd-Appkey".into(), c.app_id.clone()),
            (
                "X-Kd-Appdata".into(),
                kingdee::k3_app_data(&c.acct_id, &c.username, &c.lcid.to_string(), "0"),
            ),
            (
                "X-Kd-Signature".into(),
                kingdee::k3_kd_signature(&c.app_id, &app_data, app_secret),
            ),
        ]
    }

    pub async fn k3_post(&self, path: &str, headers: &[(String, String)], body: &Value) -> Value {
        let mut request = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        for (k, v) in headers {
            request = request.header(k.as_str(), v.as_str());
        }
        body_json(request.send().await.expect("K3Cloud request is answered"))
            .await
            .1
    }

    /// A DynamicFormService call with signed headers.
    pub async fn k3(&self, service: &str, body: &Value) -> Value {
        let path = Self::k3_path(service);
        let secret = self.handle.config().credentials.k3cloud.app_secret.clone();
        let headers = self.k3_signed_headers(&path, &secret);
        self.k3_post(&path, &headers, body).await
    }

    /// Logs in with ValidateUser; returns the session id of the cookie.
    pub async fn k3_login(&self) -> String {
        let c = &self.handle.config().credentials.k3cloud;
        let body = json!({"acctid": c.acct_id, "username": c.username, "password": c.password, "lcid": 2052});
        let response = self
            .http
            .post(self.url(&Self::k3_path("AuthService.ValidateUser")))
            .json(&body)
            .send()
            .await
            .expect("login is answered");
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("kdservice-sessionid="))
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
            .expect("login sets kdservice-sessionid");
        let (_, reply) = body_json(response).await;
        assert_eq!(reply["LoginResultType"], 1, "{reply}");
        assert_eq!(reply["KDSVCSessionId"], cookie.as_str());
        cookie
    }

    /// A DynamicFormService call with a session cookie.
    pub async fn k3_session(&self, service: &str, sid: &str, body: &Value) -> Value {
        let headers = vec![("Cookie".to_string(), format!("kdservice-sessionid={sid}"))];
        self.k3_post(&Self::k3_path(service), &headers, body).await
    }

    // ------------------------------------------------------------ 金蝶云星辰

    pub fn jdy_headers(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        client_secret: &str,
    ) -> Vec<(String, String)> {
        let c = &self.handle.config().credentials.jdy;
        let ts = clock::now_millis().to_string();
        let nonce = "4427456950".to_string();
        let line = kingdee::gateway_query_line(query, kingdee::UrlEncoding::Rfc3986);
        let text = kingdee::gateway_string_to_sign(
            method,
            path,
            &line,
            &nonce,
            &ts,
            kingdee::UrlEncoding::Rfc3986,
        );
        vec![
            ("X-Api-ClientID".into(), c.client_id.clone()),
            ("X-Api-Auth-Version".into(), "2.0".into()),
            ("X-Api-TimeStamp".into(), ts),
            ("X-Api-Nonce".into(), nonce),
            (
                "X-Api-SignHeaders".into(),
                "X-Api-TimeStamp,X-Api-Nonce".into(),
            ),
            (
                "X-Api-Signature".into(),
                kingdee::hmac_sha256_b64hex(&text, client_secret),
            ),
        ]
    }

    pub async fn jdy_token(&self) -> String {
        let c = &self.handle.config().credentials.jdy;
        let query = vec![
            ("app_key".to_string(), c.app_key.clone()),
            (
                "app_signature".to_string(),
                kingdee::jdy_app_signature(&c.app_key, &c.app_secret),
            ),
        ];
        let path = "/jdyconnector/app_management/kingdee_auth_token";
        let mut request = self.http.get(self.url_with(path, &query));
        for (k, v) in self.jdy_headers("GET", path, &query, &c.client_secret) {
            request = request.header(k, v);
        }
        let (status, reply) =
            body_json(request.send().await.expect("token call is answered")).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        assert_eq!(reply["errcode"], 0, "{reply}");
        assert_eq!(reply["data"]["domain"], self.handle.origin());
        reply["data"]["app-token"]
            .as_str()
            .expect("app-token is a string")
            .to_string()
    }

    pub async fn jdy_save(&self, token: &str, body: &Value) -> (StatusCode, Value) {
        let c = &self.handle.config().credentials.jdy;
        let path = self.handle.config().jdy_pur_return_path.clone();
        let mut request = self
            .http
            .post(self.url(&path))
            .json(body)
            .header("app-token", token);
        for (k, v) in self.jdy_headers("POST", &path, &[], &c.client_secret) {
            request = request.header(k, v);
        }
        body_json(request.send().await.expect("save is answered")).await
    }
}

/// A purchase order model K3Cloud accepts, from the simulator's master data.
pub fn purchase_order_model(bill_no: &str, material: &str) -> Value {
    json!({
        "FBillNo": bill_no,
        "FDate": "2024-01-05 10:00:00",
        "FBillTypeID": {"FNUMBER": "CGDD01_SYS"},
        "FBusinessType": "CG",
        "FPurchaseOrgId": {"FNumber": "100"},
        "FSupplierId": {"FNumber": "0003"},
        "FPOOrderEntry": [
            {"FMaterialId": {"FNumber": material}, "FQty": "10.0000", "FPrice": "12.5", "FEntryTaxRate": "13",
             "FEntryNote": "rec-1", "FReceiveOrgId": {"FNumber": "100"}},
            {"FMaterialId": {"FNumber": "SKU00002"}, "FQty": 3, "FPrice": 8}
        ]
    })
}
