//! A minimal writer of the MaxMind DB format, enough to build a GeoIP database for tests: one
//! IPv4 network mapped to a country and a city.

/// Encodes a value of the MaxMind DB data section.
enum Value<'a> {
    Str(&'a str),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(&'a str, Value<'a>)>),
    Array(Vec<Value<'a>>),
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    assert!(size < 29, "sizes this small are all the tests need");
    if kind <= 7 {
        out.push(kind << 5 | size as u8);
    } else {
        out.push(size as u8);
        out.push(kind - 7);
    }
}

fn encode(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(s) => {
            control(out, 2, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        Value::U16(v) => uint(out, 5, u64::from(*v)),
        Value::U32(v) => uint(out, 6, u64::from(*v)),
        Value::U64(v) => uint(out, 9, *v),
        Value::Map(entries) => {
            control(out, 7, entries.len());
            for (k, v) in entries {
                encode(out, &Value::Str(k));
                encode(out, v);
            }
        }
        Value::Array(items) => {
            control(out, 11, items.len());
            items.iter().for_each(|v| encode(out, v));
        }
    }
}

fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

/// A database (IPv4, 24-bit records) placing `network`/`prefix` in `country` and `city`.
pub fn city_database(network: [u8; 4], prefix: usize, country: &str, city: &str) -> Vec<u8> {
    let node_count = prefix as u32;
    let no_data = node_count;
    let data_pointer = node_count + 16;
    let bits = u32::from_be_bytes(network);
    let mut out = Vec::new();
    // One node per bit of the prefix: the bit of `network` leads on, the other to no data.
    for depth in 0..prefix {
        let bit = bits >> (31 - depth) & 1;
        let onward = if depth + 1 == prefix { data_pointer } else { depth as u32 + 1 };
        let (left, right) = if bit == 0 { (onward, no_data) } else { (no_data, onward) };
        out.extend_from_slice(&left.to_be_bytes()[1..]);
        out.extend_from_slice(&right.to_be_bytes()[1..]);
    }
    out.extend_from_slice(&[0; 16]);
    let record = Value::Map(vec![
        ("city", Value::Map(vec![("names", Value::Map(vec![("en", Value::Str(city))]))])),
        ("country", Value::Map(vec![("iso_code", Value::Str(country))])),
    ]);
    encode(&mut out, &record);
    out.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
    let metadata = Value::Map(vec![
        ("binary_format_major_version", Value::U16(2)),
        ("binary_format_minor_version", Value::U16(0)),
        ("build_epoch", Value::U64(1_780_000_000)),
        ("database_type", Value::Str("GeoLite2-City")),
        ("description", Value::Map(vec![("en", Value::Str("Sightline test database"))])),
        ("ip_version", Value::U16(4)),
        ("languages", Value::Array(vec![Value::Str("en")])),
        ("node_count", Value::U32(node_count)),
        ("record_size", Value::U16(24)),
    ]);
    encode(&mut out, &metadata);
    out
}
