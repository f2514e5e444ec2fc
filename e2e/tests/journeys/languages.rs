//! Languages and zones (issue #13): one whole path — register → dashboard → new report →
//! task page → download → reports — walked by an English browser in UTC and by an
//! Indonesian one in Jakarta (WIB). Every word the journey looks for comes from the SPA's
//! own catalogs (`i18n/<lang>.txt`), and on every page of the Indonesian walk
//! none of the English catalog's phrases may show. Screenshots of each page in both
//! languages: `target/screenshots/lang-<en|id>-<page>-{desktop,phone}.png`.

use std::collections::BTreeMap;

use super::*;
use helpers::Visitor;

/// The SPA's catalog of `lang`: key → text.
fn catalog(lang: &str) -> Result<BTreeMap<String, String>> {
    let path = helpers::workspace_root().join(format!("i18n/{lang}.txt"));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(" = "))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect())
}

/// One walk's language: its catalog and how its pages write dates.
struct Words {
    lang: &'static str,
    words: BTreeMap<String, String>,
}

impl Words {
    fn of(lang: &'static str) -> Result<Self> {
        Ok(Self {
            lang,
            words: catalog(lang)?,
        })
    }

    /// The text of `key` (placeholders left in).
    fn t(&self, key: &str) -> Result<&str> {
        self.words
            .get(key)
            .map(String::as_str)
            .with_context(|| format!("{}.txt has no key {key}", self.lang))
    }

    /// The text of `key` with `{name}` replaced.
    fn tf(&self, key: &str, args: &[(&str, &str)]) -> Result<String> {
        let mut text = self.t(key)?.to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        Ok(text)
    }
}

/// English phrases that Indonesian says otherwise: the words an Indonesian page must never
/// show. A text of two words or more, or, around its placeholders, each run of two words
/// or more (`Completed in {duration}` → `Completed in`), so that the worker's log lines
/// and errors, which are mostly values in a frame, are checked too.
fn english_phrases(en: &Words, id: &Words) -> Vec<String> {
    let mut phrases: Vec<String> = en
        .words
        .iter()
        .filter(|(key, text)| id.words.get(*key).is_some_and(|other| other != *text))
        .flat_map(|(_, text)| {
            text.split(['{', '}'])
                .step_by(2)
                .map(str::trim)
                .filter(|part| part.split_whitespace().count() >= 2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    phrases.sort();
    phrases.dedup();
    phrases
}

/// The page's visible text, less what the user typed.
async fn page_words(b: &Browser) -> Result<String> {
    let text = b
        .client
        .execute(
            "const copy = document.body.cloneNode(true); \
             copy.querySelectorAll('input, textarea, pre, code').forEach(e => e.remove()); \
             return copy.innerText;",
            vec![],
        )
        .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
}

/// Fails when the page shows one of `phrases`.
async fn no_english(b: &Browser, phrases: &[String], page: &str) -> Result<()> {
    let text = page_words(b).await?;
    let found: Vec<&String> = phrases
        .iter()
        .filter(|p| text.contains(p.as_str()))
        .collect();
    ensure!(
        found.is_empty(),
        "the {page} page shows English: {found:?}\n{text}"
    );
    Ok(())
}

/// Walks the path as `visitor`, in `w`'s words; `zone_word` is how the pages name the
/// browser's zone (`UTC`, `WIB`). `phrases`: English phrases that must not show (none for
/// the English walk).
async fn walk(visitor: Visitor, w: &Words, zone_word: &str, phrases: Vec<String>) -> Result<()> {
    let shot = |page: &str| format!("lang-{}-{page}", w.lang);
    let b = Browser::open_as(visitor).await?;
    let result = async {
        // The landing page, in the browser's language, and <html lang> says which.
        b.goto("/").await?;
        b.wait_for(Find::Link(w.t("nav.create_account")?)).await?;
        let lang = b
            .client
            .execute("return document.documentElement.lang", vec![])
            .await?;
        ensure!(
            lang == json!(w.lang),
            "<html lang> is {lang}, not {}",
            w.lang
        );
        no_english(&b, &phrases, "landing").await?;
        b.screenshot(&shot("landing")).await?;

        // Register.
        b.click_link(w.t("nav.create_account")?).await?;
        b.wait_for(Find::Heading(w.t("auth.create_your_account")?))
            .await?;
        b.click_button(w.t("nav.create_account")?).await?;
        b.wait_for(Find::Css(".field.has-error")).await?;
        no_english(&b, &phrases, "register").await?;
        b.screenshot(&shot("register-errors")).await?;
        let email = fresh_email(&format!("lang-{}", w.lang));
        let name = if w.lang == "id" {
            "Sari Wulandari"
        } else {
            "Sam Walker"
        };
        b.fill(w.t("auth.your_name")?, name).await?;
        b.fill(w.t("auth.email")?, &email).await?;
        b.fill(w.t("auth.password")?, FRESH_PASSWORD).await?;
        b.click_button(w.t("nav.create_account")?).await?;

        // The dashboard: welcome, the cards with amounts in rupiah (the default currency).
        b.wait_for(Find::Heading(
            &w.tf("dashboard.welcome_name", &[("name", name)])?,
        ))
        .await?;
        b.wait_for(Find::Text(w.t("dashboard.empty_title")?))
            .await?;
        let revenue = b
            .wait_for(Find::Css("[data-metric=revenue] .metric-total"))
            .await?
            .text()
            .await?;
        ensure!(revenue.starts_with("Rp"), "revenue reads {revenue:?}");
        no_english(&b, &phrases, "dashboard").await?;
        b.screenshot(&shot("dashboard")).await?;

        // The profile keeps the language the browser chose, for the worker's reports and
        // every other device.
        let api = Api::new()?;
        let user = api.sign_in(&email, FRESH_PASSWORD).await?;
        let profile = api
            .get(
                &user,
                &format!("profiles?id=eq.{}&select=preferences", user.id),
            )
            .await?;
        ensure!(
            profile[0]["preferences"]["language"] == json!(w.lang)
                && profile[0]["preferences"]["timezone"] == json!(visitor.time_zone),
            "profile: {profile}"
        );

        // A new report.
        wizard_type_in(&b, w, "analytics_report").await?;
        no_english(&b, &phrases, "wizard").await?;
        let title = if w.lang == "id" {
            "Laporan penjualan mingguan"
        } else {
            "Weekly sales report"
        };
        b.fill(w.t("common.title")?, title).await?;
        // The range ends today, the reader's today.
        let offset = if visitor.time_zone == "Asia/Jakarta" {
            7 * 3600
        } else {
            0
        };
        let to = b.field(w.t("wizard.to")?).await?.prop("value").await?;
        ensure!(
            to.as_deref() == Some(helpers::local_date(offset, 0).as_str()),
            "the range ends {to:?}, not today in {}",
            visitor.time_zone
        );
        b.select(w.t("wizard.file_format")?, "csv").await?;
        b.screenshot(&shot("wizard-details")).await?;
        b.click_button(w.t("pager.next")?).await?;
        b.wait_for(Find::Css("#run_at")).await?;
        // The run-at field names the reader's zone.
        b.wait_for(Find::Text(zone_word)).await?;
        no_english(&b, &phrases, "schedule").await?;
        b.screenshot(&shot("wizard-schedule")).await?;
        b.click_button(w.t("wizard.to_review")?).await?;
        b.wait_for(Find::Text(w.t("wizard.asap")?)).await?;
        no_english(&b, &phrases, "review").await?;
        b.screenshot(&shot("wizard-review")).await?;
        b.click_button(w.t("wizard.create")?).await?;

        // The task page: completed, its times in the reader's zone, the file downloadable.
        let id = task_id_from_url(&b).await?;
        b.wait_for(Find::Heading(title)).await?;
        b.wait_for_within(
            Find::Css(".status-line [data-status=completed]"),
            Duration::from_secs(60),
        )
        .await?;
        let badge = b
            .wait_for(Find::Css(".status-line [data-status=completed]"))
            .await?;
        ensure!(
            badge.text().await? == w.t("value.task_status.completed")?,
            "the badge says {:?}",
            badge.text().await?
        );
        check_times(&b, w.lang, zone_word).await?;
        let link = b.wait_for(Find::Link(w.t("task.download")?)).await?;
        let href = link.attr("href").await?.context("download href")?;
        let file = reqwest::get(&href)
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        ensure!(!file.is_empty(), "the report is empty");
        let task = task_row(&api, &user, &id).await?;
        ensure!(task["status"] == "completed", "task: {task}");
        no_english(&b, &phrases, "task").await?;
        b.screenshot(&shot("task-completed")).await?;

        // The reports page lists it, with its size in the reader's format.
        b.goto("/analytics/reports").await?;
        b.wait_for(Find::Text(title)).await?;
        no_english(&b, &phrases, "reports").await?;
        b.screenshot(&shot("reports")).await?;
        Ok(())
    }
    .await;
    let closed = b.close().await;
    result.and(closed)
}

/// Every moment the page names with its zone reads the wall-clock time of that zone: its
/// `<time datetime>` (UTC) moved by the zone's offset, written as `lang` writes times
/// (`13.05 WIB`; `01:05 PM UTC`). At least one such moment must be on the page.
async fn check_times(b: &Browser, lang: &str, zone_word: &str) -> Result<()> {
    let offset_hours = match zone_word {
        "WIB" => 7,
        "WITA" => 8,
        "WIT" => 9,
        _ => 0,
    };
    let mut checked = 0;
    for time in b
        .client
        .find_all(fantoccini::Locator::Css("time[datetime]"))
        .await?
    {
        let text = time.text().await?.replace(['\u{a0}', '\u{202f}'], " ");
        if !text.ends_with(zone_word) {
            continue;
        }
        let at = time.attr("datetime").await?.context("a datetime")?;
        let (hour, minute): (u32, u32) = (
            at.get(11..13)
                .and_then(|h| h.parse().ok())
                .context("an hour")?,
            at.get(14..16)
                .and_then(|m| m.parse().ok())
                .context("a minute")?,
        );
        let hour = (hour + offset_hours) % 24;
        let expected = if lang == "id" {
            format!("{hour:02}.{minute:02} {zone_word}")
        } else {
            let half = if hour < 12 { "AM" } else { "PM" };
            let twelve = if hour % 12 == 0 { 12 } else { hour % 12 };
            format!("{twelve:02}:{minute:02} {half} {zone_word}")
        };
        ensure!(
            text.ends_with(&expected),
            "{at} reads {text:?}, expected … {expected}"
        );
        checked += 1;
    }
    ensure!(checked > 0, "no time on the page is named in {zone_word}");
    Ok(())
}

/// The wizard's first step with `task_type`, in `w`'s words.
async fn wizard_type_in(b: &Browser, w: &Words, task_type: &str) -> Result<()> {
    b.goto("/tasks/new").await?;
    b.wait_for(Find::Heading(w.t("tasks.new")?)).await?;
    b.wait_for(Find::Css(&format!(
        "input[name=task-type][value={task_type}]"
    )))
    .await?
    .click()
    .await?;
    b.click_button(w.t("pager.next")?).await?;
    b.wait_for(Find::Css("#title")).await?;
    Ok(())
}

/// 7. The same path in English (UTC) and in Bahasa Indonesia (Asia/Jakarta): each in its
/// language from the first page, times in the browser's zone, amounts in rupiah; no English
/// phrase on any Indonesian page.
#[tokio::test]
async fn j7_the_same_path_in_english_and_in_indonesian() -> Result<()> {
    let (en, id) = (Words::of("en")?, Words::of("id")?);
    let phrases = english_phrases(&en, &id);
    ensure!(
        phrases.len() > 200,
        "only {} English phrases to look for",
        phrases.len()
    );
    walk(Visitor::ENGLISH, &en, "UTC", Vec::new()).await?;
    let indonesian = Visitor {
        languages: "id-ID,id",
        time_zone: "Asia/Jakarta",
    };
    walk(indonesian, &id, "WIB", phrases).await
}
