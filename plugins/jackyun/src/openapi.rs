//! The 吉客云 open API (PROTOCOLS.md §6): every method is a `POST` of form
//! fields `method`, `appkey`, `version`, `contenttype=json`, `timestamp`
//! (China time), `bizcontent` (the business parameters as JSON) and `sign`
//! to `/open/openapi/do`.

use serde_json::{Map, Value};
use weft_plugin_sdk::Result;
use weft_plugin_sdk::http::{Request, Response, classify_status};
use weft_signing::{china_time, jackyun};

use crate::config::JackyunConfig;

/// The signed form of a call to `method`.
pub fn signed_form(
    config: &JackyunConfig,
    method: &str,
    bizcontent: &str,
    timestamp: &str,
) -> Vec<(String, String)> {
    let mut form = vec![
        ("method".to_owned(), method.to_owned()),
        ("appkey".to_owned(), config.appkey.clone()),
        ("version".to_owned(), config.version.clone()),
        ("contenttype".to_owned(), "json".to_owned()),
        ("timestamp".to_owned(), timestamp.to_owned()),
        ("bizcontent".to_owned(), bizcontent.to_owned()),
    ];
    let sign = jackyun::sign(&form, &config.secret);
    form.push(("sign".to_owned(), sign));
    form
}

/// The request for `method`.
pub fn request(config: &JackyunConfig, method: &str, bizcontent: &str, timestamp: &str) -> Request {
    Request::post(config.url()).form(&signed_form(config, method, bizcontent, timestamp))
}

/// The answer as a JSON object; [`weft_jackyun_api::reply`] reads it.
///
/// # Errors
/// The HTTP class of a non-2xx status; `transient` for a body that is not
/// a JSON object.
pub fn interpret(response: &Response) -> Result<Map<String, Value>> {
    if !(200..300).contains(&response.status) {
        return Err(classify_status(
            response.status,
            response.header("retry-after"),
            &response.body,
        ));
    }
    response.json()
}

/// Calls `method` with the business parameters, signed now.
///
/// # Errors
/// See [`interpret`]; network failures are `transient`.
pub fn call(config: &JackyunConfig, method: &str, business: &Value) -> Result<Map<String, Value>> {
    let response = request(config, method, &business.to_string(), &china_time::now()).send()?;
    interpret(&response).map_err(|e| e.context(method))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> JackyunConfig {
        serde_json::from_value(serde_json::json!({
            "appkey": "187657", "secret": "f0d1483f1f2e49cea3dfd48c8d7e3c23"
        }))
        .expect("config")
    }

    /// The document's example, through the form builder.
    #[test]
    fn forms_carry_the_documented_signature() {
        let form = signed_form(
            &config(),
            "erp.goods.skuimport",
            r#"{"brandName":"衣服","goodsNo":"H06-2"}"#,
            "2019-07-30 15:18:30",
        );
        assert_eq!(
            form.last(),
            Some(&(
                "sign".to_owned(),
                "20cda156f86b919dd737a999041ac350".to_owned()
            ))
        );
        let req = request(
            &config(),
            "erp.goods.skuimport",
            "{}",
            "2019-07-30 15:18:30",
        );
        assert_eq!(req.url(), "https://open.jackyun.com/open/openapi/do");
    }

    #[test]
    fn bodies_that_are_not_json_are_transient() {
        let r = Response {
            status: 200,
            headers: vec![],
            body: b"<html>".to_vec(),
        };
        assert_eq!(interpret(&r).err().map(|e| e.class()), Some("transient"));
        let r = Response {
            status: 429,
            headers: vec![("retry-after".to_owned(), "2".to_owned())],
            body: vec![],
        };
        assert_eq!(interpret(&r).err().map(|e| e.class()), Some("rate-limited"));
    }
}
