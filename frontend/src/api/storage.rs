//! Supabase Storage: signed download URLs, uploads, public URLs.

use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;

use crate::api::decode::{self, FromJson, Missing, Object};
use crate::api::error::AppError;
use crate::api::http::{Api, ApiRequest};
use crate::api::query::encode;

/// Each segment of an object path percent-encoded, slashes kept.
pub fn encode_path(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

#[derive(Deserialize)]
struct Signed {
    #[serde(rename = "signedURL", alias = "signedUrl")]
    signed_url: String,
}

impl FromJson for Signed {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(Signed {
            signed_url: decode::text(row, "signedURL")
                .or_else(|_| decode::text(row, "signedUrl"))?,
        })
    }
}

/// A URL that downloads `bucket/path` for `expires_in` seconds without headers.
pub async fn signed_url(
    api: &Api,
    bucket: &str,
    path: &str,
    expires_in: u32,
) -> Result<String, AppError> {
    let signed: Signed = api
        .row(
            ApiRequest::post(api.storage(&format!("object/sign/{bucket}/{}", encode_path(path))))
                .json(&json!({ "expiresIn": expires_in })),
        )
        .await?;
    Ok(absolute_signed_url(api, &signed.signed_url))
}

/// Storage answers `/object/sign/…?token=…`, relative to `/storage/v1`.
pub fn absolute_signed_url(api: &Api, signed: &str) -> String {
    if signed.starts_with("http://") || signed.starts_with("https://") {
        signed.to_owned()
    } else {
        api.storage(signed)
    }
}

/// Uploads `file` to `bucket/path` (`x-upsert: true` replaces it).
pub async fn upload(
    api: &Api,
    bucket: &str,
    path: &str,
    file: &web_sys::File,
    upsert: bool,
) -> Result<(), AppError> {
    let content_type = match file.type_() {
        t if t.is_empty() => "application/octet-stream".to_owned(),
        t => t,
    };
    api.send(
        ApiRequest::post(api.storage(&format!("object/{bucket}/{}", encode_path(path))))
            .header("x-upsert", if upsert { "true" } else { "false" })
            .raw(JsValue::from(file.clone()), content_type),
    )
    .await?;
    Ok(())
}

/// The public URL of an object in a public bucket.
pub fn public_url(api: &Api, bucket: &str, path: &str) -> String {
    api.storage(&format!("object/public/{bucket}/{}", encode_path(path)))
}

/// Starts the browser's download of `url` as `file_name`.
pub fn start_download(url: &str, file_name: &str) {
    let document = gloo::utils::document();
    let Ok(element) = document.create_element("a") else {
        return;
    };
    let _ = element.set_attribute("href", url);
    let _ = element.set_attribute("download", file_name);
    let _ = element.set_attribute("rel", "noopener");
    let _ = element.set_attribute("target", "_blank");
    if let Some(body) = document.body() {
        let _ = body.append_child(&element);
        if let Ok(anchor) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(element) {
            anchor.click();
            let _ = body.remove_child(&anchor);
        }
    }
}
