//! A test database lives as long as its last `TestDb` clone, then it is dropped.

use sqlx::{Connection, PgConnection};

async fn exists(name: &str) -> bool {
    let url = testkit::cluster_url().expect("DATABASE_URL");
    let mut admin = PgConnection::connect(&url).await.expect("connect");
    sqlx::query_scalar::<_, bool>("select exists (select 1 from pg_database where datname = $1)")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .expect("query pg_database")
}

#[tokio::test]
async fn a_database_is_dropped_with_its_last_clone_even_with_open_connections() {
    let db = testkit::fresh_database(testkit::Template::Seeded)
        .await
        .expect("fresh database");
    let name = db.name.clone();
    let users: i64 = sqlx::query_scalar("select count(*) from auth.users")
        .fetch_one(&db.pool)
        .await
        .expect("count seeded users");
    assert_eq!(
        users, 3,
        "the seeded template has the three seeded accounts"
    );

    // A connection outside the pool, as a server under test would hold.
    let mut held = PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query("select 1")
        .execute(&mut held)
        .await
        .expect("select");

    let clone = db.clone();
    drop(db);
    assert!(exists(&name).await, "a clone still holds it");
    drop(clone);
    assert!(!exists(&name).await, "{name} is gone after its last clone");
}
