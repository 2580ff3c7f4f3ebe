//! Python's text forms where they reach the wire: `str(float)` in headers (`timeout: 1200.0`)
//! and `json.dumps` defaults (`", "`/`": "` separators, non-ASCII as `\uXXXX`) in request
//! bodies, so a miner sees from our validator-sim the same bytes a Python dendrite sends; and
//! `repr()` of JSON values, which the reference prints into signed messages and stringified rows.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};

/// Python's `repr`/`str` of a float: shortest round-trip digits, fixed notation for decimal
/// exponents in `-4..16` (always with a `.0` when integral), scientific (`1e+16`) otherwise.
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // `{:e}` gives the shortest round-trip digits as d[.ddd]e<exp>.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("LowerExp has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() { first.to_string() } else { format!("{first}.{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

/// A serde_json formatter with Python `json.dumps` defaults.
#[derive(Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(py_float(value).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        // ensure_ascii: every non-ASCII char becomes \uXXXX (UTF-16 surrogate pairs above the BMP).
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if ch.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut buf = [0u16; 2];
            for unit in ch.encode_utf16(&mut buf) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(&mut self, writer: &mut W, char_escape: CharEscape) -> io::Result<()> {
        // serde_json's default escapes match Python's except that Python writes control
        // characters other than \b\f\n\r\t as \u00XX in lowercase, which serde_json also does.
        serde_json::ser::CompactFormatter.write_char_escape(writer, char_escape)
    }
}

/// Python's `repr` of a string: single quotes unless the text holds `'` and no `"`; control
/// characters as `\xNN`.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr` of a JSON value as `json.loads` would have built it (dicts in key order).
pub fn py_repr(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(n) => py_float(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => py_str_repr(s),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter().map(|(k, v)| format!("{}: {}", py_str_repr(k), py_repr(v))).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// `json.dumps(value)` as Python writes it.
pub fn to_python_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = Serializer::with_formatter(&mut out, PythonFormatter);
    value.serialize(&mut ser).expect("serialising JSON values to memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    /// Expected strings printed by CPython 3.11 `repr()` of the same values.
    #[test]
    fn repr_like_cpython() {
        assert_eq!(py_str_repr("a'b\u{1}\\"), r#""a'b\x01\\""#);
        assert_eq!(py_str_repr("x\"y"), r#"'x"y'"#);
        assert_eq!(py_repr(&serde_json::json!({"k": [1, null, true, 2.5]})), "{'k': [1, None, True, 2.5]}");
        assert_eq!(py_repr(&serde_json::json!(1e16)), "1e+16");
    }

    use super::*;

    #[test]
    fn floats_print_like_python() {
        for (x, s) in [
            (1200.0, "1200.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1200.0 * 1.1, "1320.0"),
            (0.1, "0.1"),
            (0.0001876354217529297, "0.0001876354217529297"),
            (1e-5, "1e-05"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.6, "123456789012345.6"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (12.0, "12.0"),
        ] {
            assert_eq!(py_float(x), s, "{x}");
        }
    }

    #[test]
    fn json_like_python_dumps() {
        let v = serde_json::json!({"a": [1, 2.5, "x—é😀"], "b": null, "c": 1200.0});
        assert_eq!(
            String::from_utf8(to_python_json(&v)).unwrap(),
            r#"{"a": [1, 2.5, "x\u2014\u00e9\ud83d\ude00"], "b": null, "c": 1200.0}"#
        );
        // and it is still JSON that round-trips
        let back: serde_json::Value = serde_json::from_slice(&to_python_json(&v)).unwrap();
        assert_eq!(back, v);
    }
}
