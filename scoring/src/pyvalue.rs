//! Python's view of JSON values, where the reference's behaviour depends on it: truthiness,
//! and `str()`/`repr()` of a row element that is not a string (the reference stringifies
//! malformed rows before grading them).

use serde_json::Value;

/// Python truthiness of a JSON value.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python `repr` of a JSON value (exact for scalars and lists; dicts as Python prints them).
pub(crate) fn repr(v: &Value) -> String {
    miid_protocol::pyfmt::py_repr(v)
}

/// Python `str` of a JSON value.
pub(crate) fn str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => repr(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn like_python() {
        assert_eq!(repr(&json!([1, 2.5, null, true, "it's", "a\"b"])), r#"[1, 2.5, None, True, "it's", 'a"b']"#);
        assert_eq!(repr(&json!(3.0)), "3.0");
        assert_eq!(repr(&json!(1e16)), "1e+16");
        assert_eq!(str(&json!("x")), "x");
        assert_eq!(repr(&json!({"k": [1]})), "{'k': [1]}");
        assert!(!truthy(&json!(0)) && !truthy(&json!("")) && truthy(&json!([0])));
    }
}
