//! The WebAPI services weft calls (PROTOCOLS.md §1.1): always `POST` to
//! `{ServerUrl}{ServiceName}.common.kdsvc`.

/// `AuthService.ValidateUser`: user name and password.
pub const VALIDATE_USER: &str = "Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser";
/// `AuthService.LoginByAppSecret`.
pub const LOGIN_BY_APP_SECRET: &str =
    "Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginByAppSecret";
/// `AuthService.LoginBySign`.
pub const LOGIN_BY_SIGN: &str = "Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginBySign";
/// `DynamicFormService.Save`: one model.
pub const SAVE: &str = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save";
/// `DynamicFormService.BatchSave`: several models, each saved on its own.
pub const BATCH_SAVE: &str = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.BatchSave";
/// `DynamicFormService.ExecuteBillQuery`: rows of field values.
pub const EXECUTE_BILL_QUERY: &str =
    "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery";

/// The path of a URL (what `X-Api-Signature` signs): everything after the
/// authority, without the query.
pub fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cut_out_of_urls() {
        assert_eq!(
            url_path(
                "http://127.0.0.1:8080/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc"
            ),
            "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc"
        );
        assert_eq!(
            url_path("https://api.kingdee.com/galaxyapi/X.common.kdsvc?a=1"),
            "/galaxyapi/X.common.kdsvc"
        );
        assert_eq!(url_path("https://host"), "/");
    }
}
