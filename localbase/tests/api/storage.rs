//! `/storage/v1`: Supabase Storage's contract, with RLS on `storage.objects` deciding.

use crate::auth::{access, send_json, sign_in, ALICE, BOB};
use crate::helpers::{text_body, TestApp, ALICE_ID, ANON_KEY, BOB_ID, SERVICE_KEY};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

fn raw(
    method: &str,
    uri: &str,
    token: Option<&str>,
    content_type: &str,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("apikey", ANON_KEY)
        .header("content-type", content_type);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(body.into()).expect("request builds")
}

fn json_req(method: &str, uri: &str, token: Option<&str>, body: Value) -> Request<Body> {
    raw(method, uri, token, "application/json", body.to_string())
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method("GET").uri(uri);
    if let Some(token) = token {
        builder = builder
            .header("apikey", ANON_KEY)
            .header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::empty()).expect("request builds")
}

/// Storage answers errors with HTTP 400 (500 for its own failures) and the real status in the body.
fn assert_error(status: StatusCode, body: &Value, status_code: &str, error: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["statusCode"], status_code, "{body}");
    assert_eq!(body["error"], error, "{body}");
}

async fn upload(
    app: &TestApp,
    token: &str,
    bucket: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    send_json(
        app,
        raw(
            "POST",
            &format!("/storage/v1/object/{bucket}/{name}"),
            Some(token),
            content_type,
            bytes.to_vec(),
        ),
    )
    .await
}

#[tokio::test]
async fn alice_uploads_downloads_lists_moves_and_deletes_in_her_folder() {
    let app = TestApp::seeded().await;
    let alice = access(&sign_in(&app, ALICE.0, ALICE.1).await);
    let name = format!("{ALICE_ID}/data.csv");

    let (status, body) = upload(
        &app,
        &alice,
        "imports",
        &name,
        "text/csv",
        b"day,orders\n1,10\n",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["Key"], format!("imports/{name}"));
    let id = body["Id"].as_str().expect("Id").to_owned();
    assert!(
        app.data_dir.0.join("storage/imports").join(&id).is_file(),
        "bytes on disk under the object id"
    );
    let (owner, size, mimetype): (String, i64, String) = sqlx::query_as(
        "select owner_id, (metadata->>'size')::bigint, metadata->>'mimetype' from storage.objects where id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.db.pool)
    .await
    .expect("row");
    assert_eq!(
        (owner.as_str(), size, mimetype.as_str()),
        (ALICE_ID, 16, "text/csv")
    );

    for path in [
        format!("/storage/v1/object/imports/{name}"),
        format!("/storage/v1/object/authenticated/imports/{name}"),
    ] {
        let response = app.send(get(&path, Some(&alice))).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/csv");
        assert_eq!(response.headers()["content-length"], "16");
        assert!(response.headers()["etag"]
            .to_str()
            .expect("etag")
            .starts_with('"'));
        assert!(response.headers().contains_key("last-modified"));
        assert_eq!(text_body(response).await, "day,orders\n1,10\n");
    }

    // Uploading again conflicts; x-upsert replaces; PUT replaces.
    let (status, body) = upload(&app, &alice, "imports", &name, "text/csv", b"again").await;
    assert_error(status, &body, "409", "Duplicate");
    assert_eq!(body["message"], "The resource already exists");
    let mut req = raw(
        "POST",
        &format!("/storage/v1/object/imports/{name}"),
        Some(&alice),
        "text/csv",
        "day,orders\n2,20\n",
    );
    req.headers_mut()
        .insert("x-upsert", "true".parse().expect("header"));
    let (status, body) = send_json(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["Id"], id.as_str(), "an upsert keeps the object");
    let (status, _) = send_json(
        &app,
        raw(
            "PUT",
            &format!("/storage/v1/object/imports/{name}"),
            Some(&alice),
            "text/plain",
            "v3",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let response = app
        .send(get(
            &format!("/storage/v1/object/imports/{name}"),
            Some(&alice),
        ))
        .await;
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(text_body(response).await, "v3");
    let (status, info) = send_json(
        &app,
        get(
            &format!("/storage/v1/object/info/imports/{name}"),
            Some(&alice),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["size"], 2);

    // Multipart, as supabase-js sends it: a cacheControl field and a file part.
    let boundary = "XyZzY";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"cacheControl\"\r\n\r\n3600\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"\"; filename=\"events.csv\"\r\nContent-Type: text/csv\r\n\r\n\
         a,b\n1,2\n\r\n--{boundary}--\r\n"
    );
    let (status, body) = send_json(
        &app,
        raw(
            "POST",
            &format!("/storage/v1/object/imports/{ALICE_ID}/sub/events.csv"),
            Some(&alice),
            &format!("multipart/form-data; boundary={boundary}"),
            multipart,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response = app
        .send(get(
            &format!("/storage/v1/object/imports/{ALICE_ID}/sub/events.csv"),
            Some(&alice),
        ))
        .await;
    assert_eq!(response.headers()["cache-control"], "max-age=3600");
    assert_eq!(response.headers()["content-type"], "text/csv");
    assert_eq!(text_body(response).await, "a,b\n1,2\n");

    // Listing: a folder entry (id null) at the top, files and sub-folders below.
    let (status, top) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/object/list/imports",
            Some(&alice),
            json!({"prefix": ""}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        top,
        json!([{"name": ALICE_ID, "id": null, "updated_at": null, "created_at": null, "last_accessed_at": null, "metadata": null}])
    );
    let (status, mine) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/object/list/imports",
            Some(&alice),
            json!({"prefix": ALICE_ID, "limit": 100, "offset": 0, "sortBy": {"column": "name", "order": "asc"}}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = mine
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["sub", "data.csv"]);
    assert!(mine[0]["id"].is_null() && mine[1]["id"] == id.as_str());
    assert_eq!(mine[1]["metadata"]["mimetype"], "text/plain");
    let (_, searched) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/object/list/imports",
            Some(&alice),
            json!({"prefix": ALICE_ID, "search": "dat"}),
        ),
    )
    .await;
    assert_eq!(searched.as_array().map(Vec::len), Some(1));

    // Move, then delete one and many.
    let (status, body) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/object/move",
            Some(&alice),
            json!({"bucketId": "imports", "sourceKey": name, "destinationKey": format!("{ALICE_ID}/moved.csv")}),
        ),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"message": "Successfully moved"}))
    );
    let (status, body) = send_json(
        &app,
        get(&format!("/storage/v1/object/imports/{name}"), Some(&alice)),
    )
    .await;
    assert_error(status, &body, "404", "not_found");
    assert_eq!(body["message"], "Object not found");
    let (status, body) = send_json(
        &app,
        get(
            &format!("/storage/v1/object/imports/{ALICE_ID}/moved.csv"),
            Some(&alice),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Copy within the folder; HEAD answers the headers without the bytes.
    let (status, body) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/object/copy",
            Some(&alice),
            json!({"bucketId": "imports", "sourceKey": format!("{ALICE_ID}/moved.csv"), "destinationKey": format!("{ALICE_ID}/copy.csv")}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["Key"], format!("imports/{ALICE_ID}/copy.csv"));
    let head = Request::builder()
        .method("HEAD")
        .uri(format!("/storage/v1/object/imports/{ALICE_ID}/copy.csv"))
        .header("authorization", format!("Bearer {alice}"))
        .body(Body::empty())
        .expect("request");
    let response = app.send(head).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-length"], "2");
    assert_eq!(text_body(response).await, "");
    let response = app
        .send(get(
            &format!("/storage/v1/object/imports/{ALICE_ID}/copy.csv"),
            Some(&alice),
        ))
        .await;
    assert_eq!(text_body(response).await, "v3");

    let response = app
        .send(
            Request::builder()
                .method("DELETE")
                .uri(format!("/storage/v1/object/imports/{ALICE_ID}/moved.csv"))
                .header("authorization", format!("Bearer {alice}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        !app.data_dir.0.join("storage/imports").join(&id).exists(),
        "the bytes went with the row"
    );
    let (status, deleted) = send_json(
        &app,
        json_req(
            "DELETE",
            "/storage/v1/object/imports",
            Some(&alice),
            json!({"prefixes": [format!("{ALICE_ID}/sub/events.csv"), format!("{ALICE_ID}/nothing.csv")]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted.as_array().map(Vec::len), Some(1));
    assert_eq!(deleted[0]["name"], format!("{ALICE_ID}/sub/events.csv"));
}

#[tokio::test]
async fn rls_keeps_users_in_their_own_folders() {
    let app = TestApp::seeded().await;
    let alice = access(&sign_in(&app, ALICE.0, ALICE.1).await);
    let bob = access(&sign_in(&app, BOB.0, BOB.1).await);

    // Bob's folder and the worker-only reports bucket refuse Alice's uploads.
    for (bucket, name) in [
        ("imports", format!("{BOB_ID}/x.csv")),
        ("reports", format!("{ALICE_ID}/r.json")),
    ] {
        let (status, body) = upload(&app, &alice, bucket, &name, "text/csv", b"x").await;
        assert_error(status, &body, "403", "Unauthorized");
        assert_eq!(
            body["message"],
            "new row violates row-level security policy"
        );
    }
    let (count,): (i64,) = sqlx::query_as("select count(*) from storage.objects")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(count, 0);
    assert_eq!(
        std::fs::read_dir(app.data_dir.0.join("storage/.tmp"))
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "no staged leftovers"
    );

    // The worker (service key) writes reports; each owner reads only their own folder.
    for owner in [ALICE_ID, BOB_ID] {
        let (status, body) = upload(
            &app,
            SERVICE_KEY,
            "reports",
            &format!("{owner}/report.json"),
            "application/json",
            b"{\"ok\":true}",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let response = app
        .send(get(
            &format!("/storage/v1/object/reports/{ALICE_ID}/report.json"),
            Some(&alice),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = send_json(
        &app,
        get(
            &format!("/storage/v1/object/reports/{BOB_ID}/report.json"),
            Some(&alice),
        ),
    )
    .await;
    assert_error(status, &body, "404", "not_found");
    let (_, listed) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/object/list/reports",
            Some(&alice),
            json!({"prefix": ""}),
        ),
    )
    .await;
    assert_eq!(
        listed,
        json!([{"name": ALICE_ID, "id": null, "updated_at": null, "created_at": null, "last_accessed_at": null, "metadata": null}])
    );

    // Bob cannot read, overwrite, move or delete Alice's imports.
    let (status, _) = upload(
        &app,
        &alice,
        "imports",
        &format!("{ALICE_ID}/mine.csv"),
        "text/csv",
        b"1",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send_json(
        &app,
        get(
            &format!("/storage/v1/object/imports/{ALICE_ID}/mine.csv"),
            Some(&bob),
        ),
    )
    .await;
    assert_error(status, &body, "404", "not_found");
    let mut req = raw(
        "POST",
        &format!("/storage/v1/object/imports/{ALICE_ID}/mine.csv"),
        Some(&bob),
        "text/csv",
        "evil",
    );
    req.headers_mut()
        .insert("x-upsert", "true".parse().expect("header"));
    let (status, body) = send_json(&app, req).await;
    assert_error(status, &body, "403", "Unauthorized");
    let (status, body) = send_json(
        &app,
        json_req(
            "DELETE",
            "/storage/v1/object/imports",
            Some(&bob),
            json!({"prefixes": [format!("{ALICE_ID}/mine.csv")]}),
        ),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
    // Alice cannot move her file into Bob's folder.
    let (status, body) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/object/move",
            Some(&alice),
            json!({"bucketId": "imports", "sourceKey": format!("{ALICE_ID}/mine.csv"), "destinationKey": format!("{BOB_ID}/mine.csv")}),
        ),
    )
    .await;
    assert_error(status, &body, "403", "Unauthorized");
    let response = app
        .send(get(
            &format!("/storage/v1/object/imports/{ALICE_ID}/mine.csv"),
            Some(&alice),
        ))
        .await;
    assert_eq!(
        text_body(response).await,
        "1",
        "the refused upsert changed nothing"
    );

    // Anonymous callers see nothing; no key at all is refused.
    let (status, body) = send_json(
        &app,
        get(
            &format!("/storage/v1/object/imports/{ALICE_ID}/mine.csv"),
            Some(ANON_KEY),
        ),
    )
    .await;
    assert_error(status, &body, "404", "not_found");
    // (The gateway may answer first: 401 "No API key found in request".)
    let (status, _) = send_json(
        &app,
        get(
            &format!("/storage/v1/object/imports/{ALICE_ID}/mine.csv"),
            None,
        ),
    )
    .await;
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED,
        "{status}"
    );
}

#[tokio::test]
async fn public_buckets_download_without_a_token() {
    let app = TestApp::seeded().await;
    let alice = access(&sign_in(&app, ALICE.0, ALICE.1).await);
    let png = [0x89u8, b'P', b'N', b'G', 13, 10, 26, 10];
    let (status, body) = upload(
        &app,
        &alice,
        "avatars",
        &format!("{ALICE_ID}/me.png"),
        "image/png",
        &png,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let response = app
        .send(get(
            &format!("/storage/v1/object/public/avatars/{ALICE_ID}/me.png"),
            None,
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    assert_eq!(&bytes[..], &png);
    let (status, info) = send_json(
        &app,
        get(
            &format!("/storage/v1/object/info/public/avatars/{ALICE_ID}/me.png"),
            Some(ANON_KEY),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["content_type"], "image/png");

    let (_, _) = upload(
        &app,
        &alice,
        "imports",
        &format!("{ALICE_ID}/private.csv"),
        "text/csv",
        b"secret",
    )
    .await;
    let (status, body) = send_json(
        &app,
        get(
            &format!("/storage/v1/object/public/imports/{ALICE_ID}/private.csv"),
            None,
        ),
    )
    .await;
    assert_error(status, &body, "404", "Bucket not found");
}

#[tokio::test]
async fn names_that_could_escape_are_rejected() {
    let app = TestApp::seeded().await;
    let alice = access(&sign_in(&app, ALICE.0, ALICE.1).await);
    for name in [
        format!("{ALICE_ID}/../{BOB_ID}/x.csv"),
        format!("{ALICE_ID}/..%2F..%2Fescape.csv"),
        format!("{ALICE_ID}/a%00b.csv"),
        format!("{ALICE_ID}//double.csv"),
        format!("{ALICE_ID}/{}", "x".repeat(1100)),
    ] {
        let (status, body) = upload(&app, &alice, "imports", &name, "text/csv", b"x").await;
        assert_error(status, &body, "400", "InvalidKey");
    }
    let (status, body) = upload(
        &app,
        &alice,
        "no-such-bucket",
        &format!("{ALICE_ID}/x.csv"),
        "text/csv",
        b"x",
    )
    .await;
    assert_error(status, &body, "404", "Bucket not found");
}

#[tokio::test]
async fn bucket_size_and_type_limits_are_enforced() {
    let app = TestApp::seeded().await;
    let alice = access(&sign_in(&app, ALICE.0, ALICE.1).await);
    let too_big = vec![0u8; 2 * 1024 * 1024 + 1];
    let (status, body) = upload(
        &app,
        &alice,
        "avatars",
        &format!("{ALICE_ID}/big.png"),
        "image/png",
        &too_big,
    )
    .await;
    assert_error(status, &body, "413", "Payload too large");
    let (status, body) = upload(
        &app,
        &alice,
        "imports",
        &format!("{ALICE_ID}/doc.pdf"),
        "application/pdf",
        b"%PDF",
    )
    .await;
    assert_error(status, &body, "415", "invalid_mime_type");
    assert_eq!(
        body["message"],
        "mime type application/pdf is not supported"
    );
    let (status, _) = upload(
        &app,
        &alice,
        "imports",
        &format!("{ALICE_ID}/ok.csv"),
        "text/csv; charset=utf-8",
        b"a\n",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn signed_urls_work_without_auth_and_expire() {
    let app = TestApp::seeded().await;
    let alice = access(&sign_in(&app, ALICE.0, ALICE.1).await);
    let bob = access(&sign_in(&app, BOB.0, BOB.1).await);
    let name = format!("{ALICE_ID}/share me.csv");
    let encoded = format!("{ALICE_ID}/share%20me.csv");
    let (status, _) = upload(&app, &alice, "imports", &encoded, "text/csv", b"shared\n").await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = send_json(
        &app,
        json_req(
            "POST",
            &format!("/storage/v1/object/sign/imports/{encoded}"),
            Some(&alice),
            json!({"expiresIn": 60}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let signed = body["signedURL"].as_str().expect("signedURL").to_owned();
    assert!(
        signed.starts_with(&format!("/object/sign/imports/{encoded}?token=")),
        "{signed}"
    );
    let response = app.send(get(&format!("/storage/v1{signed}"), None)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text_body(response).await, "shared\n");

    // Bob may not sign what he cannot read.
    let (status, body) = send_json(
        &app,
        json_req(
            "POST",
            &format!("/storage/v1/object/sign/imports/{encoded}"),
            Some(&bob),
            json!({"expiresIn": 60}),
        ),
    )
    .await;
    assert_error(status, &body, "404", "not_found");
    let (status, many) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/object/sign/imports",
            Some(&alice),
            json!({"expiresIn": 60, "paths": [name, "missing.csv"]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        many[0]["signedURL"].is_string()
            && many[1]["signedURL"].is_null()
            && many[1]["error"].is_string()
    );

    // An expired token, and a token for another object, are refused.
    let now = chrono::Utc::now().timestamp();
    let expired = localbase::jwt::sign(
        &json!({"url": format!("imports/{name}"), "iat": now - 120, "exp": now - 60}),
        localbase::config::DEFAULT_JWT_SECRET,
    )
    .expect("sign");
    let (status, body) = send_json(
        &app,
        get(
            &format!("/storage/v1/object/sign/imports/{encoded}?token={expired}"),
            None,
        ),
    )
    .await;
    assert_error(status, &body, "400", "InvalidJWT");
    assert_eq!(body["message"], "jwt expired");
    let token = signed.split("token=").nth(1).expect("token");
    let (status, body) = send_json(
        &app,
        get(
            &format!("/storage/v1/object/sign/imports/{ALICE_ID}/other.csv?token={token}"),
            None,
        ),
    )
    .await;
    assert_error(status, &body, "400", "InvalidSignature");
}

#[tokio::test]
async fn buckets_are_read_by_users_and_managed_by_the_service_key() {
    let app = TestApp::seeded().await;
    let alice = access(&sign_in(&app, ALICE.0, ALICE.1).await);
    let (status, buckets) = send_json(&app, get("/storage/v1/bucket", Some(&alice))).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = buckets
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|b| b["id"].as_str())
        .collect();
    assert_eq!(ids, ["avatars", "imports", "reports"]);
    let (_, anon) = send_json(&app, get("/storage/v1/bucket", Some(ANON_KEY))).await;
    assert_eq!(anon, json!([]));
    let (status, imports) = send_json(&app, get("/storage/v1/bucket/imports", Some(&alice))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(imports["file_size_limit"], 52428800);
    assert_eq!(imports["public"], false);

    let (status, body) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/bucket",
            Some(&alice),
            json!({"name": "mine", "public": true}),
        ),
    )
    .await;
    assert_error(status, &body, "403", "Unauthorized");

    let (status, body) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/bucket",
            Some(SERVICE_KEY),
            json!({"id": "scratch", "name": "scratch", "file_size_limit": "1MB"}),
        ),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"name": "scratch"})));
    let (status, body) = send_json(
        &app,
        json_req(
            "POST",
            "/storage/v1/bucket",
            Some(SERVICE_KEY),
            json!({"name": "scratch"}),
        ),
    )
    .await;
    assert_error(status, &body, "409", "Duplicate");
    let (status, body) = send_json(
        &app,
        json_req(
            "PUT",
            "/storage/v1/bucket/scratch",
            Some(SERVICE_KEY),
            json!({"public": true, "allowed_mime_types": ["text/plain"]}),
        ),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"message": "Successfully updated"}))
    );
    let (status, _) = upload(
        &app,
        SERVICE_KEY,
        "scratch",
        "a/b.txt",
        "text/plain",
        b"hello",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send_json(
        &app,
        raw(
            "DELETE",
            "/storage/v1/bucket/scratch",
            Some(SERVICE_KEY),
            "application/json",
            "",
        ),
    )
    .await;
    assert_error(status, &body, "409", "ResourceNotEmpty");
    let (status, body) = send_json(
        &app,
        raw(
            "POST",
            "/storage/v1/bucket/scratch/empty",
            Some(SERVICE_KEY),
            "application/json",
            "",
        ),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"message": "Successfully emptied"}))
    );
    let (status, body) = send_json(
        &app,
        raw(
            "DELETE",
            "/storage/v1/bucket/scratch",
            Some(SERVICE_KEY),
            "application/json",
            "",
        ),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"message": "Successfully deleted"}))
    );
    let (status, body) =
        send_json(&app, get("/storage/v1/bucket/scratch", Some(SERVICE_KEY))).await;
    assert_error(status, &body, "404", "Bucket not found");
}
