//! Parsing and forging `DUMP` payloads for `RESTORE` tests.
//!
//! # Layout of a DUMP payload
//!
//! ```text
//! +-----------------------------------+-------------------+--------------------------+
//! | value: RDB type byte + RDB object | RDB version: u16  | CRC64: u64               |
//! | (what rdbSaveObjectType +         | little-endian     | little-endian, over all  |
//! |  rdbSaveObject write)             | (11 on Valkey 8,  | bytes before it          |
//! |                                   |  10 on Redis 7.0) |                          |
//! +-----------------------------------+-------------------+--------------------------+
//! ```
//!
//! The CRC is Redis's `crc64(0, buf, len)`: the "Jones" polynomial, reflected, init 0, no final xor
//! (check value `crc64("123456789") = 0xe9c6d914c4b8d9ca`), which is exactly `crc64::crc64(0, data)` from
//! the `crc64` crate. RESTORE verifies only this CRC and that the version is not newer than its own
//! (plus deep sanitization when `sanitize-dump-payload yes`), so a payload with a recomputed CRC reaches
//! the type's loader: forged payloads test that `rdb_load` refuses bad input instead of crashing.
//!
//! A native string `"hello"` dumps as `00 05 68 65 6c 6c 6f | 0b 00 | <8 CRC bytes>`.
//!
//! **Truncation caveat.** RESTORE hands the loader a buffer holding the *whole* payload, trailer included,
//! and does not check that the loader consumed exactly the value. A value cut short by fewer bytes than the
//! 10-byte trailer is completed with the version and CRC bytes: `00 05 'h'` truncated from `"hello"` loads
//! as `"h\x0b\x00"` plus two CRC bytes. To be certain a read runs off the end, cut more than 10 bytes
//! before the end of what the loader wants (or inflate a length, see [`set_len_at`]); otherwise accept
//! "an error or a well-formed value, never a crash".
//!
//! ## RDB lengths (`rdbSaveLen`)
//!
//! | first byte | meaning |
//! |---|---|
//! | `00xxxxxx` | 6-bit length |
//! | `01xxxxxx` + 1 byte | 14-bit length, big-endian |
//! | `0x80` + 4 bytes | 32-bit length, big-endian |
//! | `0x81` + 8 bytes | 64-bit length, big-endian |
//! | `11xxxxxx` | special string encoding `xxxxxx`: 0 = int8, 1 = int16 LE, 2 = int32 LE, 3 = LZF |
//!
//! An LZF string is `0xC3`, compressed length, original length (both RDB lengths), compressed bytes.
//!
//! ## Module values (`RDB_TYPE_MODULE_2` = 7)
//!
//! ```text
//! 07 | module id as an RDB length (always 0x81 + 8 bytes BE in practice) | fields ... | 00 (EOF opcode)
//! ```
//!
//! The 64-bit module id is the 9-character type name, 6 bits per character from the charset
//! `A-Z a-z 0-9 - _` (first character in the highest bits), shifted left by 10, OR the type's encoding
//! version in the low 10 bits. Every field the module's `rdb_save` writes is preceded by an opcode
//! (an RDB length): 1 = signed int (`SaveSigned`, value as an RDB length of the `u64` bits), 2 = unsigned
//! (`SaveUnsigned`, RDB length), 3 = float (4 bytes LE), 4 = double (8 bytes LE), 5 = string
//! (`SaveStringBuffer`, an RDB string: raw, int-encoded when short and numeric, or LZF when longer than 20
//! bytes and `rdbcompression yes`; start the server with `rdbcompression no` to keep strings raw).
//! [`parse_module_value`] lists the fields with their offsets, so a test can inflate a count or a string
//! length, truncate inside a field, or change the encoding version.
//!
//! All offsets in this module are byte offsets into the payload (the value starts at offset 0).
//! Forging functions take a payload and return a new one with a valid CRC.

use std::fmt;

/// `RDB_TYPE_STRING`.
pub const RDB_TYPE_STRING: u8 = 0;
/// `RDB_TYPE_MODULE_2`: a module value whose fields carry opcodes.
pub const RDB_TYPE_MODULE_2: u8 = 7;

/// Module field opcodes (`RDB_MODULE_OPCODE_*`).
pub const MODULE_OPCODE_EOF: u64 = 0;
pub const MODULE_OPCODE_SINT: u64 = 1;
pub const MODULE_OPCODE_UINT: u64 = 2;
pub const MODULE_OPCODE_FLOAT: u64 = 3;
pub const MODULE_OPCODE_DOUBLE: u64 = 4;
pub const MODULE_OPCODE_STRING: u64 = 5;

const TRAILER: usize = 10;
const MODULE_NAME_CHARSET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The CRC of a DUMP payload: Redis's `crc64(0, data)`.
pub fn crc(data: &[u8]) -> u64 {
    crc64::crc64(0, data)
}

/// A DUMP payload split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dump {
    /// The RDB type byte and the serialized object.
    pub value: Vec<u8>,
    pub rdb_version: u16,
}

impl Dump {
    /// Split a payload, checking its length and CRC.
    pub fn parse(payload: &[u8]) -> Result<Dump, String> {
        let (value, version, stored) = split(payload)?;
        let computed = crc(payload.get(..payload.len() - 8).unwrap_or_default());
        if stored != computed {
            return Err(format!(
                "CRC mismatch: stored {stored:#018x}, computed {computed:#018x}"
            ));
        }
        Ok(Dump {
            value: value.to_vec(),
            rdb_version: version,
        })
    }

    /// Reassemble: value + version + a freshly computed CRC.
    pub fn to_payload(&self) -> Vec<u8> {
        assemble(&self.value, self.rdb_version)
    }

    /// The RDB type byte (0 = string, 7 = module ...).
    pub fn rdb_type(&self) -> Option<u8> {
        self.value.first().copied()
    }
}

/// Split without checking the CRC: (value, version, stored CRC).
fn split(payload: &[u8]) -> Result<(&[u8], u16, u64), String> {
    if payload.len() < TRAILER {
        return Err(format!(
            "payload of {} bytes is shorter than the 10-byte trailer",
            payload.len()
        ));
    }
    let (value, trailer) = payload.split_at(payload.len() - TRAILER);
    let (version, crc_bytes) = trailer.split_at(2);
    let version = u16::from_le_bytes([version[0], version[1]]);
    let mut c = [0u8; 8];
    c.copy_from_slice(crc_bytes);
    Ok((value, version, u64::from_le_bytes(c)))
}

fn assemble(value: &[u8], version: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + TRAILER);
    out.extend_from_slice(value);
    out.extend_from_slice(&version.to_le_bytes());
    let c = crc(&out);
    out.extend_from_slice(&c.to_le_bytes());
    out
}

/// Apply `edit` to the value part of `payload` (the CRC is not checked) and return it with a valid CRC.
pub fn edit_value(payload: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let (value, version, _) = split(payload).unwrap_or_else(|e| panic!("edit_value: {e}"));
    let mut value = value.to_vec();
    edit(&mut value);
    assemble(&value, version)
}

/// Recompute the CRC of a payload (after editing its bytes by hand).
pub fn fix_crc(payload: &[u8]) -> Vec<u8> {
    edit_value(payload, |_| {})
}

/// Keep only the first `len` bytes of the value (must be shorter than the value), with a valid trailer.
pub fn truncate_value(payload: &[u8], len: usize) -> Vec<u8> {
    edit_value(payload, |v| {
        assert!(
            len < v.len(),
            "truncate_value: {len} is not inside a value of {} bytes",
            v.len()
        );
        v.truncate(len);
    })
}

/// Set the byte at `offset` of the value to `byte`.
pub fn patch_byte(payload: &[u8], offset: usize, byte: u8) -> Vec<u8> {
    edit_value(payload, |v| {
        let len = v.len();
        let b = v.get_mut(offset).unwrap_or_else(|| {
            panic!("patch_byte: offset {offset} outside a value of {len} bytes")
        });
        *b = byte;
    })
}

/// Replace the RDB length at `offset` of the value with `new_len` (re-encoded; the encoding may get
/// longer, shifting what follows). Use it to inflate a count or a string length.
pub fn set_len_at(payload: &[u8], offset: usize, new_len: u64) -> Vec<u8> {
    edit_value(payload, |v| {
        let (old, size) =
            read_len(v, offset).unwrap_or_else(|e| panic!("set_len_at({offset}): {e}"));
        assert!(
            !old.encoded,
            "set_len_at({offset}): a special string encoding, not a length"
        );
        v.splice(offset..offset + size, encode_len(new_len));
    })
}

/// Change the encoding version (low 10 bits of the module id) of a module value.
pub fn set_module_encver(payload: &[u8], encver: u16) -> Vec<u8> {
    assert!(encver < 1024, "encoding versions have 10 bits");
    edit_value(payload, |v| {
        assert_eq!(
            v.first(),
            Some(&RDB_TYPE_MODULE_2),
            "set_module_encver: not a module value"
        );
        let (id, size) = read_len(v, 1).unwrap_or_else(|e| panic!("set_module_encver: {e}"));
        let new_id = (id.value & !0x3ff) | u64::from(encver);
        v.splice(1..1 + size, encode_len(new_id));
    })
}

/// A decoded RDB length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RdbLen {
    pub value: u64,
    /// `11xxxxxx`: `value` is a special string encoding (0 int8, 1 int16, 2 int32, 3 LZF), not a length.
    pub encoded: bool,
}

/// Read the RDB length at `offset`: the length and how many bytes it takes.
pub fn read_len(data: &[u8], offset: usize) -> Result<(RdbLen, usize), String> {
    let byte = |i: usize| {
        data.get(offset + i).copied().ok_or_else(|| {
            format!(
                "length at {offset} runs past the end ({} bytes)",
                data.len()
            )
        })
    };
    let first = byte(0)?;
    let plain = |value| RdbLen {
        value,
        encoded: false,
    };
    Ok(match first >> 6 {
        0 => (plain(u64::from(first & 0x3f)), 1),
        1 => (
            plain((u64::from(first & 0x3f) << 8) | u64::from(byte(1)?)),
            2,
        ),
        3 => (
            RdbLen {
                value: u64::from(first & 0x3f),
                encoded: true,
            },
            1,
        ),
        _ => {
            let n = match first {
                0x80 => 4,
                0x81 => 8,
                _ => return Err(format!("bad length byte {first:#04x} at {offset}")),
            };
            let mut value = 0u64;
            for i in 1..=n {
                value = (value << 8) | u64::from(byte(i)?);
            }
            (plain(value), n + 1)
        }
    })
}

/// Encode `len` as `rdbSaveLen` does (shortest form).
pub fn encode_len(len: u64) -> Vec<u8> {
    if len < 1 << 6 {
        vec![len as u8]
    } else if len < 1 << 14 {
        vec![0x40 | (len >> 8) as u8, len as u8]
    } else if len <= u64::from(u32::MAX) {
        let mut v = vec![0x80];
        v.extend_from_slice(&(len as u32).to_be_bytes());
        v
    } else {
        let mut v = vec![0x81];
        v.extend_from_slice(&len.to_be_bytes());
        v
    }
}

/// How an RDB string was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringEncoding {
    /// Length + bytes; the length is at [`ModuleField::value_offset`].
    Raw,
    /// A short decimal integer stored as int8/16/32 (the bytes are its decimal text).
    Int,
    /// LZF-compressed; the bytes are the *compressed* data (not decompressed here).
    Lzf { original_len: u64 },
}

/// One field of a module value.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Signed(i64),
    Unsigned(u64),
    Float(f32),
    Double(f64),
    String {
        bytes: Vec<u8>,
        encoding: StringEncoding,
    },
}

/// A field of a module value and where it lies in the payload.
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleField {
    /// Offset of the opcode.
    pub opcode_offset: usize,
    /// Offset right after the opcode: the RDB length of an integer, the length (or special encoding
    /// byte) of a string, the first byte of a float/double. [`set_len_at`] at this offset inflates an
    /// unsigned field or a raw string's length.
    pub value_offset: usize,
    /// Offset just past the field.
    pub end: usize,
    pub value: FieldValue,
}

/// A parsed module value.
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleValue {
    pub module_id: u64,
    /// The 9-character type name encoded in the id (e.g. `"exstrtype"`).
    pub type_name: String,
    /// The encoding version (low 10 bits of the id).
    pub encver: u16,
    pub fields: Vec<ModuleField>,
    /// Offset of the EOF opcode that ends the value.
    pub eof_offset: usize,
}

impl fmt::Display for ModuleValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{}:", self.type_name, self.encver)?;
        for field in &self.fields {
            write!(f, " @{} {:?}", field.opcode_offset, field.value)?;
        }
        Ok(())
    }
}

/// The type name encoded in a module id (the 54 high bits, 6 per character).
pub fn module_type_name(module_id: u64) -> String {
    let bits = module_id >> 10;
    (0..9)
        .map(|i| MODULE_NAME_CHARSET[((bits >> (6 * (8 - i))) & 63) as usize] as char)
        .collect()
}

/// Parse a module value (RDB type 7) into its fields. The CRC is not checked.
pub fn parse_module_value(payload: &[u8]) -> Result<ModuleValue, String> {
    let (v, _, _) = split(payload)?;
    if v.first() != Some(&RDB_TYPE_MODULE_2) {
        return Err(format!(
            "RDB type {:?} is not a module value (7)",
            v.first()
        ));
    }
    let (id, mut pos) = read_len(v, 1)?;
    pos += 1;
    let mut fields = Vec::new();
    loop {
        let opcode_offset = pos;
        let (opcode, n) = read_len(v, pos)?;
        pos += n;
        let value_offset = pos;
        let take = |pos: usize, n: usize| {
            v.get(pos..pos + n)
                .ok_or_else(|| format!("field at {opcode_offset} runs past the end"))
        };
        let value = match (opcode.encoded, opcode.value) {
            (false, MODULE_OPCODE_EOF) => {
                if pos != v.len() {
                    return Err(format!("{} bytes after the EOF opcode", v.len() - pos));
                }
                return Ok(ModuleValue {
                    module_id: id.value,
                    type_name: module_type_name(id.value),
                    encver: (id.value & 0x3ff) as u16,
                    fields,
                    eof_offset: opcode_offset,
                });
            }
            (false, MODULE_OPCODE_SINT | MODULE_OPCODE_UINT) => {
                let (x, n) = read_len(v, pos)?;
                pos += n;
                if opcode.value == MODULE_OPCODE_SINT {
                    FieldValue::Signed(x.value as i64)
                } else {
                    FieldValue::Unsigned(x.value)
                }
            }
            (false, MODULE_OPCODE_FLOAT) => {
                let b = take(pos, 4)?;
                pos += 4;
                FieldValue::Float(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            (false, MODULE_OPCODE_DOUBLE) => {
                let b = take(pos, 8)?;
                pos += 8;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                FieldValue::Double(f64::from_le_bytes(a))
            }
            (false, MODULE_OPCODE_STRING) => {
                let (len, n) = read_len(v, pos)?;
                pos += n;
                let (bytes, encoding) = if !len.encoded {
                    let b = take(pos, len.value as usize)?;
                    pos += b.len();
                    (b.to_vec(), StringEncoding::Raw)
                } else {
                    match len.value {
                        0..=2 => {
                            let width = 1usize << len.value;
                            let b = take(pos, width)?;
                            pos += width;
                            let n: i64 = match width {
                                1 => i64::from(b[0] as i8),
                                2 => i64::from(i16::from_le_bytes([b[0], b[1]])),
                                _ => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                            };
                            (n.to_string().into_bytes(), StringEncoding::Int)
                        }
                        3 => {
                            let (clen, n1) = read_len(v, pos)?;
                            pos += n1;
                            let (olen, n2) = read_len(v, pos)?;
                            pos += n2;
                            let b = take(pos, clen.value as usize)?;
                            pos += b.len();
                            (
                                b.to_vec(),
                                StringEncoding::Lzf {
                                    original_len: olen.value,
                                },
                            )
                        }
                        e => return Err(format!("bad string encoding {e} at {value_offset}")),
                    }
                };
                FieldValue::String { bytes, encoding }
            }
            _ => return Err(format!("bad module opcode {opcode:?} at {opcode_offset}")),
        };
        fields.push(ModuleField {
            opcode_offset,
            value_offset,
            end: pos,
            value,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_redis_crc64_jones() {
        // The check value from Redis's crc64.c test.
        assert_eq!(crc(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn lengths_round_trip() {
        for n in [
            0,
            1,
            63,
            64,
            16383,
            16384,
            u64::from(u32::MAX),
            1 << 40,
            u64::MAX,
        ] {
            let e = encode_len(n);
            assert_eq!(
                read_len(&e, 0),
                Ok((
                    RdbLen {
                        value: n,
                        encoded: false
                    },
                    e.len()
                ))
            );
        }
    }

    #[test]
    fn module_value_round_trip() {
        // "exstrtype" v1: UINT 3, STRING "abc", DOUBLE 1.5, SINT -1, STRING int-encoded "12", EOF.
        let name = b"exstrtype";
        let mut id = 0u64;
        for c in name {
            let pos = MODULE_NAME_CHARSET.iter().position(|x| x == c).unwrap() as u64;
            id = (id << 6) | pos;
        }
        let id = (id << 10) | 1;
        let mut v = vec![RDB_TYPE_MODULE_2];
        v.extend(encode_len(id));
        v.extend([2, 3, 5, 3, b'a', b'b', b'c', 4]);
        v.extend(1.5f64.to_le_bytes());
        v.push(1);
        v.extend(encode_len(u64::MAX));
        v.extend([5, 0xc0, 12, 0]);
        let payload = assemble(&v, 11);
        assert!(Dump::parse(&payload).is_ok());
        let m = parse_module_value(&payload).unwrap();
        assert_eq!(m.type_name, "exstrtype");
        assert_eq!(m.encver, 1);
        let values: Vec<_> = m.fields.iter().map(|f| f.value.clone()).collect();
        assert_eq!(
            values,
            vec![
                FieldValue::Unsigned(3),
                FieldValue::String {
                    bytes: b"abc".to_vec(),
                    encoding: StringEncoding::Raw
                },
                FieldValue::Double(1.5),
                FieldValue::Signed(-1),
                FieldValue::String {
                    bytes: b"12".to_vec(),
                    encoding: StringEncoding::Int
                },
            ]
        );
        let v2 = set_module_encver(&payload, 2);
        assert_eq!(parse_module_value(&v2).unwrap().encver, 2);
        assert_eq!(parse_module_value(&v2).unwrap().type_name, "exstrtype");
        // Inflate the count and the string length: the CRC stays valid, the structure does not.
        let big = set_len_at(&payload, m.fields[0].value_offset, 1 << 40);
        assert!(Dump::parse(&big).is_ok());
        assert_eq!(
            parse_module_value(&big).unwrap().fields[0].value,
            FieldValue::Unsigned(1 << 40)
        );
        let long = set_len_at(&payload, m.fields[1].value_offset, 1000);
        assert!(parse_module_value(&long).is_err());
        let cut = truncate_value(&payload, m.fields[2].value_offset + 3);
        assert!(Dump::parse(&cut).is_ok());
        assert!(parse_module_value(&cut).is_err());
    }
}
