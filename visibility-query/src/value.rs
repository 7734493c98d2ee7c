//! Conversions between filter literals, archived strings and typed values.

use jiff::Timestamp;

/// Parses Go's `time.RFC3339Nano` layout strictly: `T` and a zone (`Z` or
/// `±hh:mm`) are required, up to nine fraction digits.
pub(crate) fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i32> {
        let d = b.get(r)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().fold(0, |n, &c| n * 10 + i32::from(c - b'0')))
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos = 0i32;
    if b[i] == b'.' {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = num(i + 1..i + 1 + digits)? * 10i32.pow(9 - digits as u32);
        i += 1 + digits;
    }
    let offset_secs = match b.get(i..)? {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            (h * 3600 + m * 60) * if *sign == b'-' { -1 } else { 1 }
        }
        _ => return None,
    };
    // Validated and converted by hand: jiff's civil-to-timestamp path is
    // general (any offset or zone) and costs more than the rest of a filter.
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second - offset_secs);
    Timestamp::new(secs, nanos).ok()
}

fn days_in_month(year: i32, month: i32) -> i32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i32, month: i32, day: i32) -> i64 {
    let y = i64::from(if month <= 2 { year - 1 } else { year });
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * i64::from((month + 9) % 12) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix epoch nanoseconds to a timestamp (every `i64` fits jiff's range).
pub(crate) fn from_nanos(n: i64) -> Option<Timestamp> {
    Timestamp::from_nanosecond(i128::from(n)).ok()
}

/// Parses a stored datetime leniently: RFC 3339 in any form jiff accepts, or epoch nanoseconds.
pub(crate) fn parse_stored_time(s: &str) -> Option<Timestamp> {
    parse_rfc3339(s)
        .or_else(|| s.parse().ok())
        .or_else(|| s.parse::<i64>().ok().and_then(from_nanos))
}

/// ExecutionDuration strings, as Temporal reads them: nanoseconds, a Go duration (with `d`), or `hh:mm:ss`.
pub(crate) fn parse_duration(s: &str) -> Result<i64, &'static str> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    if let Some(n) = go_duration(s) {
        return Ok(n);
    }
    hh_mm_ss(s)
}

fn go_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac = &r[..n];
            rest = &r[n..];
        }
        if int_part.is_empty() && frac.is_empty() {
            return None;
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit: i128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let whole: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().ok()?
        };
        total = total.checked_add(whole.checked_mul(unit)?)?;
        let mut scale = unit;
        for d in frac.bytes().take(18) {
            scale /= 10;
            total += i128::from(d - b'0') * scale;
        }
        if total > i128::from(i64::MAX) {
            return None;
        }
    }
    i64::try_from(if neg { -total } else { total }).ok()
}

/// `%d:%d:%d` as Go's `fmt.Sscanf` reads it; text after the seconds is ignored.
fn hh_mm_ss(s: &str) -> Result<i64, &'static str> {
    let mut parts = s.splitn(3, ':');
    let mut field = |last: bool| -> Option<i64> {
        let p = parts.next()?.trim_start();
        let sign = usize::from(p.starts_with(['-', '+']));
        let n = p[sign..].bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || (!last && sign + n != p.len()) {
            return None;
        }
        let v: i64 = p[..sign + n].parse().ok()?;
        Some(v)
    };
    let (h, m, sec) = match (field(false), field(false), field(true)) {
        (Some(h), Some(m), Some(s)) => (h, m, s),
        _ => return Err("invalid duration"),
    };
    if h < 0 {
        return Err("invalid duration: hours must be a positive number");
    }
    if !(0..=59).contains(&m) {
        return Err("invalid duration: minutes must be from 0 to 59");
    }
    if !(0..=59).contains(&sec) {
        return Err("invalid duration: seconds must be from 0 to 59");
    }
    h.checked_mul(3_600_000_000_000)
        .and_then(|x| x.checked_add(m * 60_000_000_000 + sec * 1_000_000_000))
        .ok_or("invalid duration")
}

/// Lower-cased word tokens, approximating Elasticsearch's standard analyzer:
/// letters and digits form words; `_`, `.`, `:` and `'` join two word characters.
pub(crate) fn text_tokens(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let joins = matches!(c, '_' | '.' | ':' | '\'')
            && !cur.is_empty()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || joins {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The values of a stored KeywordList: a JSON array of strings, or a single plain value.
pub(crate) fn keyword_list(s: &str) -> Vec<String> {
    let t = s.trim();
    if t.starts_with('[')
        && let Some(v) = json_string_array(t)
    {
        return v;
    }
    vec![s.to_owned()]
}

fn json_string_array(s: &str) -> Option<Vec<String>> {
    let mut it = s.strip_prefix('[')?.trim_start().chars().peekable();
    let mut out = Vec::new();
    if it.peek() == Some(&']') {
        return Some(out);
    }
    loop {
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        if it.next()? != '"' {
            return None;
        }
        let mut v = String::new();
        loop {
            match it.next()? {
                '"' => break,
                '\\' => match it.next()? {
                    'n' => v.push('\n'),
                    't' => v.push('\t'),
                    'r' => v.push('\r'),
                    'b' => v.push('\u{8}'),
                    'f' => v.push('\u{c}'),
                    'u' => {
                        let hex: String = (0..4).map(|_| it.next()).collect::<Option<_>>()?;
                        let mut code = u32::from_str_radix(&hex, 16).ok()?;
                        if (0xD800..0xDC00).contains(&code) {
                            // A surrogate pair: the low half follows as `\uXXXX`.
                            if it.next()? != '\\' || it.next()? != 'u' {
                                return None;
                            }
                            let lo: String = (0..4).map(|_| it.next()).collect::<Option<_>>()?;
                            let lo = u32::from_str_radix(&lo, 16).ok()?;
                            code = 0x10000 + ((code - 0xD800) << 10) + (lo.checked_sub(0xDC00)?);
                        }
                        v.push(char::from_u32(code)?);
                    }
                    c => v.push(c),
                },
                c => v.push(c),
            }
        }
        out.push(v);
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        match it.next()? {
            ',' => {}
            ']' => return Some(out),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        let t = parse_rfc3339("2021-06-07T16:46:34.236-08:00").unwrap();
        assert_eq!(t.to_string(), "2021-06-08T00:46:34.236Z");
        assert!(parse_rfc3339("2018-06-07T15:04:05.123456789Z").is_some());
        for bad in [
            "2025-01-01 12:34:56Z",
            "2023-01-01",
            "2023-01-01T00:00:00",
            "2023-01-01T00:00:00+0800",
            "2023-01-01T00:00:00.1234567890Z",
            "2023-02-30T00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01t00:00:00z",
        ] {
            assert!(parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    proptest::proptest! {
        /// The hand conversion agrees with jiff's on every date-time shape,
        /// valid or not (month 13, February 30, hour 24, ...).
        #[test]
        fn rfc3339_agrees_with_jiff(
            (y, mo, d) in (0..=9999i16, 0..=13i8, 0..=32i8),
            (h, mi, sec) in (0..=24i8, 0..=60i8, 0..=60i8),
            nanos in 0..1_000_000_000i32,
            offset in proptest::option::of(-86_399..=86_399i32),
        ) {
            let zone = offset.map_or("Z".to_owned(), |o| {
                let sign = if o < 0 { '-' } else { '+' };
                format!("{sign}{:02}:{:02}", (o.abs() / 3600) % 24, (o.abs() / 60) % 60)
            });
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.{nanos:09}{zone}");
            let jiff = jiff::civil::DateTime::new(y, mo, d, h, mi, sec, nanos).ok().and_then(|dt| {
                let o = offset.map_or(0, |o| ((o.abs() / 3600) % 24 * 3600 + (o.abs() / 60) % 60 * 60) * o.signum());
                jiff::tz::Offset::from_seconds(o).ok()?.to_timestamp(dt).ok()
            });
            proptest::prop_assert_eq!(parse_rfc3339(&text), jiff, "{}", text);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("100"), Ok(100));
        assert_eq!(parse_duration("1m"), Ok(60_000_000_000));
        assert_eq!(parse_duration("-1.5h"), Ok(-5_400_000_000_000));
        assert_eq!(parse_duration("2h45m"), Ok(9_900_000_000_000));
        assert_eq!(parse_duration("1h1d"), Ok(90_000_000_000_000));
        assert_eq!(parse_duration("01:02:03"), Ok(3_723_000_000_000));
        assert_eq!(parse_duration("01:02:03xyz"), Ok(3_723_000_000_000));
        assert!(parse_duration("01:60:03").is_err());
        assert!(parse_duration("1t").is_err());
        assert!(parse_duration("100q").is_err());
        assert!(parse_duration("10000000h").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn tokens_and_lists() {
        assert_eq!(
            text_tokens("Order-processing v2, it's a_b"),
            ["order", "processing", "v2", "it's", "a_b"]
        );
        assert_eq!(
            keyword_list(r#"["a", "b\"c", "\u00e9"]"#),
            ["a", "b\"c", "é"]
        );
        assert_eq!(keyword_list("plain"), ["plain"]);
        assert_eq!(keyword_list("[]"), Vec::<String>::new());
    }
}
