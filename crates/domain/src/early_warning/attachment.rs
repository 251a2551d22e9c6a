//! Photos and voice notes attached to reports. The declared type is never trusted on its own:
//! the first bytes must agree with it, so a script renamed `photo.jpg` is refused before it is
//! stored. Voice matters: many focal points are more at ease speaking than writing, and basic
//! phones record AMR.

use crate::text::fold;
use super::EwMsg;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Ogg,
    Mp3,
    M4a,
    Amr,
}

impl MediaType {
    pub const ALL: [MediaType; 7] = [Self::Jpeg, Self::Png, Self::Webp, Self::Ogg, Self::Mp3, Self::M4a, Self::Amr];

    /// Reads a declared MIME type, parameters ignored (`audio/ogg; codecs=opus`), with the
    /// aliases phones and gateways actually send.
    pub fn from_mime(raw: &str) -> Option<Self> {
        let m = raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        Some(match m.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Self::Jpeg,
            "image/png" => Self::Png,
            "image/webp" => Self::Webp,
            "audio/ogg" | "audio/opus" | "application/ogg" => Self::Ogg,
            "audio/mpeg" | "audio/mp3" | "audio/mpeg3" => Self::Mp3,
            "audio/mp4" | "audio/m4a" | "audio/x-m4a" => Self::M4a,
            "audio/amr" | "audio/amr-wb" => Self::Amr,
            _ => return None,
        })
    }
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Ogg => "audio/ogg",
            Self::Mp3 => "audio/mpeg",
            Self::M4a => "audio/mp4",
            Self::Amr => "audio/amr",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Ogg => "ogg",
            Self::Mp3 => "mp3",
            Self::M4a => "m4a",
            Self::Amr => "amr",
        }
    }
    pub fn is_audio(self) -> bool {
        matches!(self, Self::Ogg | Self::Mp3 | Self::M4a | Self::Amr)
    }
    /// Bytes `matches_magic` needs to decide.
    pub const HEAD_LEN: usize = 12;

    /// Does the start of the file look like this type?
    pub fn matches_magic(self, head: &[u8]) -> bool {
        match self {
            Self::Jpeg => head.starts_with(&[0xFF, 0xD8, 0xFF]),
            Self::Png => head.starts_with(b"\x89PNG\r\n\x1a\n"),
            Self::Webp => head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP",
            Self::Ogg => head.starts_with(b"OggS"),
            // ID3 tag, or a bare MPEG audio frame: 11 sync bits, layer bits not "reserved" (00),
            // which also keeps AAC ADTS (layer 00) out.
            Self::Mp3 => {
                head.starts_with(b"ID3")
                    || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0 && head[1] & 0x06 != 0)
            }
            // ISO base media: size, "ftyp", then an audio-capable major brand.
            Self::M4a => {
                head.len() >= 12
                    && &head[4..8] == b"ftyp"
                    && matches!(&head[8..12], b"M4A " | b"M4B " | b"mp42" | b"mp41" | b"isom" | b"iso2")
            }
            Self::Amr => head.starts_with(b"#!AMR\n") || head.starts_with(b"#!AMR-WB\n"),
        }
    }

    /// The type the bytes show, if it is one we accept.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.matches_magic(head))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentPolicy {
    pub max_image_bytes: u64,
    pub max_audio_bytes: u64,
    pub max_per_report: usize,
}

impl Default for AttachmentPolicy {
    /// 5 MB for a photo, 10 MB for a voice note (several minutes of AMR or Opus): enough for
    /// evidence, small enough to send over 2G/3G.
    fn default() -> Self {
        AttachmentPolicy { max_image_bytes: 5 * 1024 * 1024, max_audio_bytes: 10 * 1024 * 1024, max_per_report: 5 }
    }
}

/// An upload as received: what the client says, the size, and the first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInput<'a> {
    pub declared_type: &'a str,
    pub file_name: &'a str,
    pub size: u64,
    /// At least the first `MediaType::HEAD_LEN` bytes (fewer only if the file is shorter).
    pub head: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedAttachment {
    pub media: MediaType,
    /// Safe to show and to use in a `Content-Disposition`; storage should still key files by
    /// an id or hash, never by this name.
    pub file_name: String,
    pub size: u64,
    /// The client sent no usable type (`application/octet-stream`, empty) and the bytes told it.
    pub type_inferred: bool,
}

/// Checks one upload. `already_attached` is how many the report has so far.
pub fn check_attachment(policy: &AttachmentPolicy, input: &AttachmentInput<'_>, already_attached: usize) -> Result<CheckedAttachment, EwMsg> {
    if already_attached >= policy.max_per_report {
        return Err(EwMsg::TooManyAttachments { max: policy.max_per_report });
    }
    if input.size == 0 || input.head.is_empty() {
        return Err(EwMsg::EmptyAttachment);
    }
    let declared = input.declared_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (media, inferred) = if declared.is_empty() || declared == "application/octet-stream" {
        (MediaType::sniff(input.head).ok_or(EwMsg::UnsupportedAttachmentType { declared: declared.clone() })?, true)
    } else {
        let m = MediaType::from_mime(&declared).ok_or(EwMsg::UnsupportedAttachmentType { declared: declared.clone() })?;
        if !m.matches_magic(input.head) {
            return Err(EwMsg::AttachmentContentMismatch { declared: m.mime().to_string() });
        }
        (m, false)
    };
    let max = if media.is_audio() { policy.max_audio_bytes } else { policy.max_image_bytes };
    if input.size > max {
        return Err(EwMsg::AttachmentTooLarge { max_bytes: max });
    }
    Ok(CheckedAttachment { media, file_name: sanitize_file_name(input.file_name, media), size: input.size, type_inferred: inferred })
}

/// Makes a client-supplied name harmless: last path component only, accents folded, only
/// `[a-z0-9_]` in the stem, no leading dots, at most 64 characters, no Windows device names,
/// and the extension forced to the checked type's (`rapport.php` declared as JPEG → `rapport.jpg`).
pub fn sanitize_file_name(raw: &str, media: MediaType) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let stem = match base.rfind('.') {
        Some(i) if i > 0 => &base[..i],
        _ => base,
    };
    let folded = fold(stem);
    let mut out = String::new();
    for c in folded.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    let mut out: String = out.trim_matches('_').chars().take(64).collect();
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        out = "fichier".into();
    }
    const RESERVED: [&str; 22] = [
        "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9", "lpt1",
        "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
    ];
    if RESERVED.contains(&out.as_str()) {
        out = format!("fichier_{out}");
    }
    format!("{out}.{}", media.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1];
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const WEBP: &[u8] = b"RIFF\x24\0\0\0WEBPVP8 ";
    const WAV: &[u8] = b"RIFF\x24\0\0\0WAVEfmt ";
    const OGG: &[u8] = b"OggS\0\x02\0\0\0\0\0\0";
    const MP3_ID3: &[u8] = b"ID3\x03\0\0\0\0\0\0\0\0";
    const MP3_FRAME: &[u8] = &[0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0];
    const AAC_ADTS: &[u8] = &[0xFF, 0xF1, 0x50, 0x80, 0, 0, 0, 0, 0, 0, 0, 0];
    const M4A: &[u8] = b"\0\0\0\x20ftypM4A \0\0";
    const MP4_3GP: &[u8] = b"\0\0\0\x20ftyp3gp4\0\0";
    const AMR: &[u8] = b"#!AMR\n\x3c\x48\x77\x44\x1e\x00";
    const PHP: &[u8] = b"<?php system($";

    fn up<'a>(t: &'a str, name: &'a str, size: u64, head: &'a [u8]) -> AttachmentInput<'a> {
        AttachmentInput { declared_type: t, file_name: name, size, head }
    }

    #[test]
    fn magic_bytes_identify_each_type_and_nothing_else() {
        let samples = [
            (MediaType::Jpeg, JPEG),
            (MediaType::Png, PNG),
            (MediaType::Webp, WEBP),
            (MediaType::Ogg, OGG),
            (MediaType::Mp3, MP3_ID3),
            (MediaType::Mp3, MP3_FRAME),
            (MediaType::M4a, M4A),
            (MediaType::Amr, AMR),
        ];
        for (t, head) in samples {
            assert_eq!(MediaType::sniff(head), Some(t), "{t:?}");
            for other in MediaType::ALL.into_iter().filter(|o| *o != t) {
                assert!(!other.matches_magic(head), "{other:?} claims {t:?}'s bytes");
            }
        }
        for foreign in [WAV, AAC_ADTS, MP4_3GP, PHP, b"".as_slice()] {
            assert_eq!(MediaType::sniff(foreign), None);
        }
    }

    #[test]
    fn declared_type_must_match_content() {
        let p = AttachmentPolicy::default();
        let ok = check_attachment(&p, &up("image/jpeg", "IMG_001.JPG", 200_000, JPEG), 0).unwrap();
        assert_eq!(ok.media, MediaType::Jpeg);
        assert_eq!(ok.file_name, "img_001.jpg");
        assert!(!ok.type_inferred);
        assert_eq!(
            check_attachment(&p, &up("image/jpeg", "x.jpg", 10, PHP), 0),
            Err(EwMsg::AttachmentContentMismatch { declared: "image/jpeg".into() })
        );
        assert_eq!(
            check_attachment(&p, &up("image/png", "x.png", 10, JPEG), 0),
            Err(EwMsg::AttachmentContentMismatch { declared: "image/png".into() })
        );
        assert!(matches!(
            check_attachment(&p, &up("application/pdf", "x.pdf", 10, b"%PDF-1.7"), 0),
            Err(EwMsg::UnsupportedAttachmentType { .. })
        ));
        let voice = check_attachment(&p, &up("audio/ogg; codecs=opus", "PTT-2024.opus", 50_000, OGG), 0).unwrap();
        assert_eq!((voice.media, voice.file_name.as_str()), (MediaType::Ogg, "ptt_2024.ogg"));
    }

    #[test]
    fn octet_stream_is_sniffed() {
        let p = AttachmentPolicy::default();
        let a = check_attachment(&p, &up("application/octet-stream", "voice", 30_000, AMR), 0).unwrap();
        assert_eq!(a.media, MediaType::Amr);
        assert!(a.type_inferred);
        assert_eq!(a.file_name, "voice.amr");
        assert!(check_attachment(&p, &up("", "x", 10, PHP), 0).is_err());
    }

    #[test]
    fn size_and_count_limits() {
        let p = AttachmentPolicy::default();
        assert_eq!(
            check_attachment(&p, &up("image/png", "a.png", p.max_image_bytes + 1, PNG), 0),
            Err(EwMsg::AttachmentTooLarge { max_bytes: p.max_image_bytes })
        );
        // The same size is fine for audio, whose limit is larger.
        assert!(check_attachment(&p, &up("audio/amr", "a.amr", p.max_image_bytes + 1, AMR), 0).is_ok());
        assert_eq!(check_attachment(&p, &up("image/png", "a.png", 0, PNG), 0), Err(EwMsg::EmptyAttachment));
        assert_eq!(check_attachment(&p, &up("image/png", "a.png", 10, PNG), 5), Err(EwMsg::TooManyAttachments { max: 5 }));
    }

    #[test]
    fn file_names_are_made_safe() {
        let n = |s| sanitize_file_name(s, MediaType::Jpeg);
        assert_eq!(n("../../etc/passwd"), "passwd.jpg");
        assert_eq!(n("C:\\Users\\Awa\\Photo marché Ségou.jpeg"), "photo_marche_segou.jpg");
        assert_eq!(n("shell.php"), "shell.jpg");
        assert_eq!(n("archive.tar.php"), "archive_tar.jpg");
        assert_eq!(n(".htaccess"), "htaccess.jpg");
        assert_eq!(n(""), "fichier.jpg");
        assert_eq!(n("***"), "fichier.jpg");
        assert_eq!(n("CON.jpg"), "fichier_con.jpg");
        assert_eq!(n("صورة.jpg"), "fichier.jpg");
        let long = n(&"a".repeat(300));
        assert_eq!(long.len(), 64 + 4);
    }
}
