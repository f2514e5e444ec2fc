//! `/storage/v1`: Supabase Storage.
//!
//! Authorization is PostgreSQL's, as upstream: every request runs in a transaction opened by
//! [`crate::request::begin_as`] (the JWT's role and claims, like PostgREST), and works on
//! `storage.objects` / `storage.buckets` with plain SQL, so the RLS policies of the migrations
//! decide. An upload is an INSERT (`owner_id` = the JWT's `sub`; an upsert also needs SELECT and
//! UPDATE policies), a download a SELECT, a delete a `DELETE … RETURNING`. The service key's
//! role bypasses RLS. Public buckets and signed URLs are read without RLS, as upstream.
//!
//! Bytes live on disk under `<data_dir>/storage/<bucket>/<object id>` (see [`files`]).
//!
//! | route | what |
//! | --- | --- |
//! | `POST /object/{bucket}/{*path}` | upload (raw body or `multipart/form-data`; `x-upsert: true` upserts) → `{Id, Key}` |
//! | `PUT /object/{bucket}/{*path}` | replace an existing object |
//! | `GET`/`HEAD /object/{bucket}/{*path}`, `/object/authenticated/{bucket}/{*path}` | download |
//! | `GET /object/public/{bucket}/{*path}` | download from a public bucket, no JWT needed |
//! | `GET /object/info/[authenticated/\|public/]{bucket}/{*path}` | object info |
//! | `POST /object/list/{bucket}` | `{prefix, limit, offset, sortBy, search}` → files and folders |
//! | `DELETE /object/{bucket}/{*path}`, `DELETE /object/{bucket} {prefixes}` | delete |
//! | `POST /object/move`, `POST /object/copy` | `{bucketId, sourceKey, destinationKey}` |
//! | `POST /object/sign/{bucket}/{*path} {expiresIn}` → `{signedURL}`; `POST /object/sign/{bucket} {expiresIn, paths}` | signed URLs |
//! | `GET /object/sign/{bucket}/{*path}?token=…` | download through a signed URL |
//! | `GET/POST /bucket`, `GET/PUT/DELETE /bucket/{id}`, `POST /bucket/{id}/empty` | buckets |
//!
//! Errors: see [`error`] (HTTP 400 with the real status in the body's `statusCode`, as upstream).

mod buckets;
pub mod error;
pub mod files;
mod objects;

pub use error::StorageError;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

/// `/storage/v1`: buckets, objects (upload, download, list, move, copy, info) and signed URLs.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/object/list/{bucket}", post(objects::list))
        .route("/object/move", post(objects::move_object))
        .route("/object/copy", post(objects::copy_object))
        .route("/object/sign/{bucket}", post(objects::sign_many))
        .route(
            "/object/sign/{bucket}/{*path}",
            post(objects::sign).get(objects::download_signed),
        )
        .route(
            "/object/public/{bucket}/{*path}",
            get(objects::download_public),
        )
        .route(
            "/object/authenticated/{bucket}/{*path}",
            get(objects::download),
        )
        .route(
            "/object/info/public/{bucket}/{*path}",
            get(objects::info_public),
        )
        .route(
            "/object/info/authenticated/{bucket}/{*path}",
            get(objects::info),
        )
        .route("/object/info/{bucket}/{*path}", get(objects::info))
        .route(
            "/object/{bucket}/{*path}",
            get(objects::download)
                .post(objects::create)
                .put(objects::update)
                .delete(objects::delete_one),
        )
        .route(
            "/object/{bucket}",
            axum::routing::delete(objects::delete_many),
        )
        .route("/bucket", get(buckets::list).post(buckets::create))
        .route(
            "/bucket/{id}",
            get(buckets::get)
                .put(buckets::update)
                .delete(buckets::delete),
        )
        .route("/bucket/{id}/empty", post(buckets::empty))
}
