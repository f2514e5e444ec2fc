//! The report's zone as people read it: `Asia/Jakarta (WIB, UTC+7)`, and the generation
//! time in it: `2024-04-01 15:00 WIB`. The offset and the abbreviation at the generation
//! time come from PostgreSQL's time zone database (the handler asks it); Indonesia's three
//! zones are named here the way Indonesians name them, whatever the database says.

use chrono::NaiveDateTime;

/// The zone of a report at its generation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneStamp {
    /// The IANA name (`Asia/Jakarta`).
    pub name: String,
    /// The zone's abbreviation then (`WIB`, `CET`); `None` where the zone has none (the
    /// database writes `+07` for those).
    pub abbreviation: Option<String>,
    /// Seconds east of UTC then.
    pub utc_offset_seconds: i32,
    /// The generation time on the zone's clock.
    pub generated_local: NaiveDateTime,
}

/// Indonesia's zones: Waktu Indonesia Barat, Tengah, Timur.
fn indonesian_abbreviation(name: &str) -> Option<&'static str> {
    match name {
        "Asia/Jakarta" | "Asia/Pontianak" => Some("WIB"),
        "Asia/Makassar" | "Asia/Ujung_Pandang" => Some("WITA"),
        "Asia/Jayapura" => Some("WIT"),
        _ => None,
    }
}

impl ZoneStamp {
    /// The stamp of `name` from what the database said: its abbreviation (`to_char(…,
    /// 'TZ')`), offset and local time.
    pub fn new(
        name: &str,
        abbreviation: &str,
        utc_offset_seconds: i32,
        generated_local: NaiveDateTime,
    ) -> Self {
        let abbreviation = indonesian_abbreviation(name)
            .map(str::to_owned)
            .or_else(|| {
                let a = abbreviation.trim();
                // Numeric "abbreviations" (+07, -0330) and UTC itself name nothing new.
                let named = !a.is_empty()
                    && a.chars().all(|c| c.is_ascii_alphabetic())
                    && a != "UTC"
                    && a != "GMT";
                named.then(|| a.to_owned())
            });
        Self {
            name: name.to_owned(),
            abbreviation,
            utc_offset_seconds,
            generated_local,
        }
    }

    /// UTC at `at`.
    pub fn utc(at: NaiveDateTime) -> Self {
        Self::new("UTC", "UTC", 0, at)
    }

    /// `UTC+7`, `UTC+5:30`, `UTC-3`, `UTC`.
    pub fn offset_label(&self) -> String {
        let seconds = self.utc_offset_seconds;
        if seconds == 0 {
            return "UTC".to_owned();
        }
        let sign = if seconds < 0 { '-' } else { '+' };
        let minutes = seconds.unsigned_abs() / 60;
        let (hours, minutes) = (minutes / 60, minutes % 60);
        if minutes == 0 {
            format!("UTC{sign}{hours}")
        } else {
            format!("UTC{sign}{hours}:{minutes:02}")
        }
    }

    /// `Asia/Jakarta (WIB, UTC+7)`, `America/Sao_Paulo (UTC-3)`, `UTC`.
    pub fn label(&self) -> String {
        let offset = self.offset_label();
        match &self.abbreviation {
            _ if self.name == offset => self.name.clone(),
            Some(abbreviation) => format!("{} ({abbreviation}, {offset})", self.name),
            None => format!("{} ({offset})", self.name),
        }
    }

    /// `2024-04-01 15:00 WIB`, `2024-04-01 11:00 (UTC-3)`, `2024-04-01 08:00 UTC`.
    pub fn generated_label(&self) -> String {
        let time = self.generated_local.format("%Y-%m-%d %H:%M");
        match (&self.abbreviation, self.utc_offset_seconds) {
            (Some(abbreviation), _) => format!("{time} {abbreviation}"),
            (None, 0) => format!("{time} UTC"),
            (None, _) => format!("{time} ({})", self.offset_label()),
        }
    }

    /// `+07:00`: the offset as ISO 8601 writes it.
    pub fn iso_offset(&self) -> String {
        let seconds = self.utc_offset_seconds;
        let sign = if seconds < 0 { '-' } else { '+' };
        let minutes = seconds.unsigned_abs() / 60;
        format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    }

    /// `2024-04-01T15:00:00+07:00`.
    pub fn generated_iso(&self) -> String {
        format!(
            "{}{}",
            self.generated_local.format("%Y-%m-%dT%H:%M:%S"),
            self.iso_offset()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2024, 4, 1)
            .and_then(|d| d.and_hms_opt(15, 0, 0))
            .expect("time")
    }

    #[test]
    fn indonesia_has_three_named_zones() {
        let jakarta = ZoneStamp::new("Asia/Jakarta", "+07", 7 * 3600, at());
        assert_eq!(jakarta.label(), "Asia/Jakarta (WIB, UTC+7)");
        assert_eq!(jakarta.generated_label(), "2024-04-01 15:00 WIB");
        assert_eq!(jakarta.generated_iso(), "2024-04-01T15:00:00+07:00");
        let makassar = ZoneStamp::new("Asia/Makassar", "WITA", 8 * 3600, at());
        assert_eq!(makassar.label(), "Asia/Makassar (WITA, UTC+8)");
        let jayapura = ZoneStamp::new("Asia/Jayapura", "WIT", 9 * 3600, at());
        assert_eq!(jayapura.label(), "Asia/Jayapura (WIT, UTC+9)");
        let pontianak = ZoneStamp::new("Asia/Pontianak", "WIB", 7 * 3600, at());
        assert_eq!(pontianak.label(), "Asia/Pontianak (WIB, UTC+7)");
    }

    #[test]
    fn other_zones() {
        assert_eq!(ZoneStamp::utc(at()).label(), "UTC");
        assert_eq!(
            ZoneStamp::utc(at()).generated_label(),
            "2024-04-01 15:00 UTC"
        );
        let kolkata = ZoneStamp::new("Asia/Kolkata", "IST", 19800, at());
        assert_eq!(kolkata.label(), "Asia/Kolkata (IST, UTC+5:30)");
        assert_eq!(kolkata.iso_offset(), "+05:30");
        let sao_paulo = ZoneStamp::new("America/Sao_Paulo", "-03", -3 * 3600, at());
        assert_eq!(sao_paulo.label(), "America/Sao_Paulo (UTC-3)");
        assert_eq!(sao_paulo.generated_label(), "2024-04-01 15:00 (UTC-3)");
        assert_eq!(sao_paulo.iso_offset(), "-03:00");
        let london = ZoneStamp::new("Europe/London", "GMT", 0, at());
        assert_eq!(london.label(), "Europe/London (UTC)");
    }
}
