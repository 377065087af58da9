//! Synthesis of realistic demo messages: personal and work mail, invoices,
//! newsletters, notifications, bounces, MIME structures, and when they
//! arrive. (The demo's huge messages are framed by `super::huge`, its
//! hostile specimens come from `super::hostile`.)
//!
//! Everything is a pure function of a seed. Nothing reads the clock, so
//! the same seed gives the same bytes on every machine and every day; dates
//! are spread over the two years before [`DATES_END`].
//!
//! Messages are built with CRLF line ends, as they go on the wire.

use super::dates::{MONTHS, civil_from_days, days_from_civil, format_date, random_zone};
use super::encode::{base64_lines, header_text, mailbox, quoted_printable, wrap_paragraphs};
use super::people::{
    BILLERS, LOCALISED, MAIL_DOMAINS, MEETINGS, NEWS_SENTENCES, NEWSLETTERS, PERSONAL_SENTENCES, PLACES, SERVICES,
    SHOPS, TOPICS, WEEKDAY_NAMES, WORK_DOMAINS, WORK_SENTENCES, ascii_slug, fill_placeholders, paragraphs, person,
};
use super::rng::Rng;

/// Where the date range of the generated maildrop ends (2026-11-01 00:00
/// UTC). Fixed rather than "now" so a seed always gives the same messages.
pub(crate) const DATES_END: i64 = days_from_civil(2026, 11, 1) * 86_400;
/// How far back the generated dates go.
pub(super) const DATES_SPAN: i64 = 730 * 86_400;

/// Who the demo maildrop belongs to.
const RECIPIENT: &str = "demo@popscope.test";
pub(super) const RECIPIENT_MAILBOX: &str = "Demo User <demo@popscope.test>";
const LOCAL_MX: &str = "mx.popscope.test";

// ---------------------------------------------------------------------------
// Message assembly
// ---------------------------------------------------------------------------

/// An attachment: file name, MIME type, content.
struct Attachment {
    name: String,
    mime: &'static str,
    data: Vec<u8>,
}

enum Body {
    Plain(String),
    Alternative { text: String, html: String },
    Mixed { text: String, attachments: Vec<Attachment> },
}

/// What a generator decides; `render` turns it into bytes.
struct Draft {
    from: String,
    subject: String,
    cc: Option<String>,
    extra_headers: Vec<(&'static str, String)>,
    body: Body,
}

/// Per-message context: where in the maildrop, when it arrived.
pub struct Slot {
    pub index: usize,
    pub seed: u64,
    pub arrival: i64,
}

fn message_id(rng: &mut Rng, domain: &str) -> String {
    format!("<{}.{}@{}>", rng.hex(16), rng.hex(6), domain)
}

pub(super) fn domain_of(addr: &str) -> &str {
    addr.rsplit('@').next().unwrap_or("example.com").trim_end_matches('>')
}

fn received_header(rng: &mut Rng, from_domain: &str, date: &str) -> String {
    format!(
        "from mail.{from_domain} (mail.{from_domain} [203.0.113.{}])\r\n\tby {LOCAL_MX} (Postfix) with ESMTPS id {}\r\n\tfor <{RECIPIENT}>; {date}",
        rng.range(1, 254),
        rng.hex(10).to_uppercase()
    )
}

/// Text body with its transfer encoding: ASCII as 7bit, otherwise 8bit or
/// quoted-printable as real mailers do.
fn text_part_headers_and_body(text: &str, subtype: &str, rng: &mut Rng) -> (String, String) {
    if text.is_ascii() {
        (
            format!("Content-Type: text/{subtype}; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n"),
            text.into(),
        )
    } else if rng.percent(50) {
        (
            format!("Content-Type: text/{subtype}; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"),
            text.into(),
        )
    } else {
        let mut body = quoted_printable(text);
        if !body.ends_with("\r\n") {
            body.push_str("\r\n");
        }
        (
            format!("Content-Type: text/{subtype}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"),
            body,
        )
    }
}

fn render(draft: Draft, slot: &Slot, rng: &mut Rng) -> Vec<u8> {
    let zone = random_zone(rng);
    let date = format_date(slot.arrival, zone);
    let from_addr = draft
        .from
        .rsplit('<')
        .next()
        .unwrap_or("")
        .trim_end_matches('>')
        .to_string();
    let from_domain = domain_of(&from_addr).to_string();
    let mut out = String::with_capacity(4096);
    let mut header = |name: &str, value: &str| {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    };
    header("Return-Path", &format!("<{from_addr}>"));
    header(
        "Received",
        &received_header(rng, &from_domain, &format_date(slot.arrival + 3, 0)),
    );
    header("From", &draft.from);
    header("To", RECIPIENT_MAILBOX);
    if let Some(cc) = &draft.cc {
        header("Cc", cc);
    }
    header("Subject", &header_text(&draft.subject, rng));
    header("Date", &date);
    header("Message-ID", &message_id(rng, &from_domain));
    for (name, value) in &draft.extra_headers {
        header(name, value);
    }
    header("MIME-Version", "1.0");
    let boundary = format!("=_popscope_{}", rng.hex(20));
    match draft.body {
        Body::Plain(text) => {
            let (headers, body) = text_part_headers_and_body(&text, "plain", rng);
            out.push_str(&headers);
            out.push_str("\r\n");
            out.push_str(&body);
        }
        Body::Alternative { text, html } => {
            out.push_str(&format!(
                "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n"
            ));
            for (subtype, content) in [("plain", &text), ("html", &html)] {
                let (headers, body) = text_part_headers_and_body(content, subtype, rng);
                out.push_str(&format!("--{boundary}\r\n{headers}\r\n{body}"));
            }
            out.push_str(&format!("--{boundary}--\r\n"));
        }
        Body::Mixed { text, attachments } => {
            out.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n"
            ));
            let (headers, body) = text_part_headers_and_body(&text, "plain", rng);
            out.push_str(&format!("--{boundary}\r\n{headers}\r\n{body}"));
            for attachment in attachments {
                out.push_str(&format!("--{boundary}\r\n"));
                if attachment.mime == "text/plain" {
                    let text = String::from_utf8_lossy(&attachment.data);
                    out.push_str(&format!(
                        "Content-Type: text/plain; charset=utf-8; name=\"{0}\"\r\nContent-Disposition: attachment; filename=\"{0}\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}",
                        attachment.name
                    ));
                } else {
                    out.push_str(&format!(
                        "Content-Type: {1}; name=\"{0}\"\r\nContent-Disposition: attachment; filename=\"{0}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{2}",
                        attachment.name,
                        attachment.mime,
                        base64_lines(&attachment.data)
                    ));
                }
            }
            out.push_str(&format!("--{boundary}--\r\n"));
        }
    }
    out.into_bytes()
}

fn pdf_blob(rng: &mut Rng, title: &str) -> Vec<u8> {
    let mut data = format!(
        "%PDF-1.4\n%\u{e2}\u{e3}\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Title ({title}) >>\nendobj\n2 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n",
        rng.range(1000, 30_000)
    )
    .into_bytes();
    let len = rng.range(2_000, 24_000) as usize;
    data.extend(rng.bytes(len));
    data.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    data
}

fn png_blob(rng: &mut Rng) -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    data.extend((rng.range(320, 4032) as u32).to_be_bytes());
    data.extend((rng.range(240, 3024) as u32).to_be_bytes());
    data.extend_from_slice(&[8, 6, 0, 0, 0]);
    data.extend(rng.bytes(4)); // CRC (not checked by anyone here)
    let len = rng.range(1_500, 18_000) as usize;
    data.extend((len as u32).to_be_bytes());
    data.extend_from_slice(b"IDAT");
    data.extend(rng.bytes(len + 4));
    data.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    data
}

fn text_attachment(rng: &mut Rng) -> Attachment {
    let lines = rng.range(5, 40);
    let mut text = String::new();
    for i in 1..=lines {
        text.push_str(&format!("{i:>3}. {}\r\n", rng.pick(WORK_SENTENCES)));
    }
    Attachment {
        name: rng
            .pick(&["notes.txt", "todo.txt", "minutes.txt", "checklist.txt"])
            .to_string(),
        mime: "text/plain",
        data: text.into_bytes(),
    }
}

fn greeting_and_signature(body: &[String], greeting: &str, signature: &str) -> String {
    let mut paras = vec![greeting.to_string()];
    paras.extend(body.iter().cloned());
    paras.push(signature.to_string());
    wrap_paragraphs(&paras)
}

fn html_from(paras: &[String], title: &str) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\r\n<body style=\"font-family: sans-serif\">\r\n<h1>{title}</h1>\r\n"
    );
    for p in paras {
        html.push_str(&format!("<p>{p}</p>\r\n"));
    }
    html.push_str("<p style=\"font-size: small\"><a href=\"https://example.com/unsubscribe\">Unsubscribe</a></p>\r\n</body></html>\r\n");
    html
}

fn maybe_cc(rng: &mut Rng) -> Option<String> {
    if !rng.percent(15) {
        return None;
    }
    let count = rng.range(1, 3);
    let list: Vec<String> = (0..count)
        .map(|_| {
            let (name, addr) = person(rng);
            mailbox(&name, &addr, rng)
        })
        .collect();
    Some(list.join(",\r\n "))
}

fn personal(rng: &mut Rng) -> Draft {
    let (name, addr) = person(rng);
    let first = name.split(' ').next().unwrap_or("").to_string();
    let subject = match rng.below(8) {
        0 => format!("Re: {}", rng.pick(TOPICS)),
        1 => format!("Fwd: {}", rng.pick(TOPICS)),
        2 => format!("Photos from {}", rng.pick(PLACES)),
        3 => format!("Lunch on {}?", rng.pick(WEEKDAY_NAMES)),
        4 => "Happy birthday!".to_string(),
        5 => format!("Quick question about {}", rng.pick(TOPICS)),
        6 => format!("Re: Re: {}", rng.pick(TOPICS)),
        _ => format!("Back from {}", rng.pick(PLACES)),
    };
    let paras = paragraphs(rng, PERSONAL_SENTENCES, 1, 4);
    let text = greeting_and_signature(&paras, "Hi,", &format!("Cheers, {first}"));
    let body = match rng.below(10) {
        0 | 1 => Body::Mixed {
            text,
            attachments: vec![Attachment {
                name: format!("IMG_{:04}.png", rng.range(1000, 9999)),
                mime: "image/png",
                data: png_blob(rng),
            }],
        },
        2 => Body::Mixed {
            text,
            attachments: vec![text_attachment(rng)],
        },
        _ => Body::Plain(text),
    };
    let mut extra = Vec::new();
    if subject.starts_with("Re:") {
        let id = message_id(rng, domain_of(&addr));
        extra.push(("In-Reply-To", id.clone()));
        extra.push(("References", id));
    }
    Draft {
        from: mailbox(&name, &addr, rng),
        subject,
        cc: maybe_cc(rng),
        extra_headers: extra,
        body,
    }
}

fn work(rng: &mut Rng) -> Draft {
    let (name, _) = person(rng);
    let domain = *rng.pick(WORK_DOMAINS);
    let addr = format!("{}@{domain}", ascii_slug(name.split(' ').next().unwrap_or("x")));
    let meeting = *rng.pick(MEETINGS);
    let weekday = *rng.pick(WEEKDAY_NAMES);
    let subject = match rng.below(7) {
        0 => format!("Notes from {weekday}'s {meeting} meeting"),
        1 => format!("Re: {meeting} agenda"),
        2 => format!("Action items: {}", rng.pick(TOPICS)),
        3 => format!("Invitation: {meeting} @ {weekday} {}:00", rng.range(9, 16)),
        4 => format!("Minutes – {meeting} ({weekday})"),
        5 => format!(
            "[project-{}] status update",
            rng.pick(&["atlas", "hermes", "nimbus", "orca"])
        ),
        _ => format!("Re: {}", rng.pick(TOPICS)),
    };
    let paras = paragraphs(rng, WORK_SENTENCES, 1, 6);
    let signature = format!("Best regards,\r\n{name}\r\n{domain}");
    let text = greeting_and_signature(&paras, "Hello team,", &signature);
    let body = match rng.below(8) {
        0 => Body::Mixed {
            text,
            attachments: vec![text_attachment(rng)],
        },
        1 => Body::Mixed {
            text,
            attachments: vec![Attachment {
                name: format!("{meeting}-slides.pdf").replace([' ', ':'], "-"),
                mime: "application/pdf",
                data: pdf_blob(rng, meeting),
            }],
        },
        _ => Body::Plain(text),
    };
    Draft {
        from: mailbox(&name, &addr, rng),
        subject,
        cc: maybe_cc(rng),
        extra_headers: Vec::new(),
        body,
    }
}

fn invoice(rng: &mut Rng, slot: &Slot) -> Draft {
    let (company, domain) = *rng.pick(BILLERS);
    let (year, month, _) = civil_from_days(slot.arrival.div_euclid(86_400));
    let number = format!("INV-{year}-{:04}", rng.range(1, 9999));
    let amount = format!("{}.{:02}", rng.range(5, 2400), rng.below(100));
    // Billed for the month before the mail arrived.
    let (billed_year, billed_month) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
    let billed = format!("{} {billed_year}", MONTHS[(billed_month - 1) as usize]);
    let subject = match rng.below(5) {
        0 => format!("Invoice {number} from {company}"),
        1 => format!("Your {company} invoice for {billed}"),
        2 => "Payment received – thank you".to_string(),
        3 => format!("Reminder: invoice {number} is due"),
        _ => format!("Receipt for your payment of EUR {amount}"),
    };
    let text = wrap_paragraphs(&[
        "Dear customer,".to_string(),
        format!("Thank you for choosing {company}. Your invoice {number} over EUR {amount} is attached."),
        "The amount will be collected by direct debit within the next five working days.".to_string(),
        format!("Kind regards,\r\nYour {company} billing team"),
    ]);
    let body = if rng.percent(65) {
        Body::Mixed {
            text,
            attachments: vec![Attachment {
                name: format!("{number}.pdf"),
                mime: "application/pdf",
                data: pdf_blob(rng, &number),
            }],
        }
    } else {
        Body::Plain(text)
    };
    Draft {
        from: mailbox(company, &format!("billing@{domain}"), rng),
        subject,
        cc: None,
        extra_headers: Vec::new(),
        body,
    }
}

fn newsletter(rng: &mut Rng) -> Draft {
    let (name, domain, topic) = *rng.pick(NEWSLETTERS);
    let issue = rng.range(12, 480);
    let subject = match rng.below(4) {
        0 => format!("{name} #{issue}: the best of {topic} this week"),
        1 => format!("This week in {topic}"),
        2 => format!("Your weekly digest: {} new posts", rng.range(3, 40)),
        _ => format!("{name} – issue {issue}"),
    };
    let paras = paragraphs(rng, NEWS_SENTENCES, 2, 7);
    let text = wrap_paragraphs(&paras);
    let body = if rng.percent(85) {
        Body::Alternative {
            text,
            html: html_from(&paras, name),
        }
    } else {
        Body::Plain(text)
    };
    Draft {
        from: mailbox(name, &format!("newsletter@{domain}"), rng),
        subject,
        cc: None,
        extra_headers: vec![
            ("List-Id", format!("<weekly.{domain}>")),
            (
                "List-Unsubscribe",
                format!("<https://{domain}/unsubscribe?u={}>", rng.hex(12)),
            ),
            ("Precedence", "bulk".to_string()),
        ],
        body,
    }
}

fn shipping(rng: &mut Rng) -> Draft {
    let (shop, domain) = *rng.pick(SHOPS);
    let order = rng.range(100_000, 999_999);
    let parcel = format!("PX{}", rng.hex(10).to_uppercase());
    let subject = match rng.below(4) {
        0 => format!("Your order #{order} has shipped"),
        1 => format!("Delivery attempt failed for parcel {parcel}"),
        2 => format!("Order confirmation #{order}"),
        _ => format!("Your parcel {parcel} arrives {}", rng.pick(WEEKDAY_NAMES)),
    };
    let paras = vec![
        "Hello,".to_string(),
        format!("Good news about your order #{order} from {shop}. Tracking number: {parcel}."),
        "You can follow the delivery in our app or on the website.".to_string(),
        format!("Thanks for shopping with {shop}!"),
    ];
    let text = wrap_paragraphs(&paras);
    let body = if rng.percent(50) {
        Body::Alternative {
            text,
            html: html_from(&paras, shop),
        }
    } else {
        Body::Plain(text)
    };
    Draft {
        from: mailbox(shop, &format!("no-reply@{domain}"), rng),
        subject,
        cc: None,
        extra_headers: Vec::new(),
        body,
    }
}

fn account(rng: &mut Rng) -> Draft {
    let (service, domain) = *rng.pick(SERVICES);
    let device = *rng.pick(&[
        "Firefox on Linux",
        "Safari on iPhone",
        "Chrome on Windows",
        "an unknown device",
    ]);
    let subject = match rng.below(5) {
        0 => format!("New sign-in to your {service} account from {device}"),
        1 => "Password reset requested".to_string(),
        2 => format!("Your verification code is {:06}", rng.below(1_000_000)),
        3 => format!("{} mentioned you in a comment", person(rng).0),
        _ => format!(
            "{} new jobs matching \"{}\"",
            rng.range(2, 30),
            rng.pick(&["rust", "sysadmin", "designer"])
        ),
    };
    let paras = vec![
        "Hi,".to_string(),
        format!("We noticed activity on your {service} account ({device})."),
        "If this was you, there is nothing to do. Otherwise, please change your password.".to_string(),
        format!("— The {service} team"),
    ];
    let text = wrap_paragraphs(&paras);
    let body = if rng.percent(50) {
        Body::Alternative {
            text,
            html: html_from(&paras, service),
        }
    } else {
        Body::Plain(text)
    };
    Draft {
        from: mailbox(service, &format!("security@{domain}"), rng),
        subject,
        cc: None,
        extra_headers: Vec::new(),
        body,
    }
}

fn localised(rng: &mut Rng) -> Draft {
    let (name, addr) = person(rng);
    let (subject, lines) = *rng.pick(LOCALISED);
    let subject = fill_placeholders(subject, rng);
    let paras: Vec<String> = lines.iter().map(|l| fill_placeholders(l, rng)).collect();
    Draft {
        from: mailbox(&name, &addr, rng),
        subject,
        cc: maybe_cc(rng),
        extra_headers: Vec::new(),
        body: Body::Plain(wrap_paragraphs(&paras)),
    }
}

/// An ordinary message (anything but a bounce).
pub fn ordinary(slot: &Slot) -> Vec<u8> {
    let mut rng = Rng::derive(slot.seed, slot.index as u64);
    let draft = match rng.below(100) {
        0..=21 => personal(&mut rng),
        22..=43 => work(&mut rng),
        44..=56 => invoice(&mut rng, slot),
        57..=71 => newsletter(&mut rng),
        72..=80 => shipping(&mut rng),
        81..=89 => account(&mut rng),
        _ => localised(&mut rng),
    };
    render(draft, slot, &mut rng)
}

// ---------------------------------------------------------------------------
// Bounces
// ---------------------------------------------------------------------------

/// (status, diagnostic) pairs, as Postfix reports them.
const BOUNCE_REASONS: &[(&str, &str)] = &[
    (
        "5.1.1",
        "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
    ),
    ("5.2.2", "552 5.2.2 <{rcpt}>: Mailbox full, quota exceeded"),
    (
        "5.7.1",
        "554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.example",
    ),
    ("5.3.4", "552 5.3.4 Message size exceeds fixed limit"),
    (
        "5.4.4",
        "Host or domain name not found. Name service error for name={domain} type=MX: Host not found",
    ),
];

const TYPO_DOMAINS: &[&str] = &["gmial.com", "outlok.com", "yahooo.co.uk", "hotmial.com", "gmx.nett"];

/// A delivery status notification for a message the maildrop's owner sent.
pub(crate) fn bounce(slot: &Slot) -> Vec<u8> {
    let mut rng = Rng::derive(slot.seed, slot.index as u64);
    let (rcpt_name, mut rcpt) = person(&mut rng);
    let (status, reason) = *rng.pick(BOUNCE_REASONS);
    if status == "5.4.4" {
        let local = rcpt.split('@').next().unwrap_or("x").to_string();
        rcpt = format!("{local}@{}", rng.pick(TYPO_DOMAINS));
    }
    let rcpt_domain = domain_of(&rcpt).to_string();
    let diagnostic = reason.replace("{rcpt}", &rcpt).replace("{domain}", &rcpt_domain);
    let relay = format!("mx{}.{}", rng.range(1, 4), rng.pick(MAIL_DOMAINS));
    let reporting = "mail.popscope.test";
    let zone = random_zone(&mut rng);
    let date = format_date(slot.arrival, zone);
    let sent = format_date(slot.arrival - rng.range(5, 600) as i64, zone);
    let queue_id = rng.hex(10).to_uppercase();
    let boundary = format!("{queue_id}.{}/{reporting}", slot.arrival);

    // The returned original: a short message from the owner.
    let original_subject = format!("Re: {}", rng.pick(TOPICS));
    let original = format!(
        "Return-Path: <{RECIPIENT}>\r\nFrom: {RECIPIENT_MAILBOX}\r\nTo: {}\r\nSubject: {original_subject}\r\nDate: {sent}\r\nMessage-ID: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{}",
        mailbox(&rcpt_name, &rcpt, &mut rng),
        message_id(&mut rng, "popscope.test"),
        wrap_paragraphs(&paragraphs(&mut rng, PERSONAL_SENTENCES, 1, 3))
    );

    // Mostly Postfix; some other MTAs' wording so filters must be smarter
    // than one exact subject.
    let (from, subject) = match rng.below(10) {
        0 => (
            "Mail Delivery Subsystem <mailer-daemon@googlemail.com>".to_string(),
            "Delivery Status Notification (Failure)".to_string(),
        ),
        1 => (
            format!("Mail Delivery System <Mailer-Daemon@{relay}>"),
            "Mail delivery failed: returning message to sender".to_string(),
        ),
        2 => (
            format!("MAILER-DAEMON@{reporting} (Mail Delivery System)"),
            format!("Undeliverable: {original_subject}"),
        ),
        _ => (
            format!("MAILER-DAEMON@{reporting} (Mail Delivery System)"),
            "Undelivered Mail Returned to Sender".to_string(),
        ),
    };

    let diagnostic_wrapped = wrap_paragraphs(&[format!(
        "<{rcpt}>: host {relay}[198.51.100.{}] said: {diagnostic} (in reply to RCPT TO command)",
        rng.range(1, 254)
    )]);
    let mut out = String::with_capacity(4096);
    out.push_str(&format!(
        "Return-Path: <>\r\nReceived: by {reporting} (Postfix)\r\n\tid {queue_id}; {date}\r\nDate: {date}\r\nFrom: {from}\r\nSubject: {subject}\r\nTo: {RECIPIENT}\r\nAuto-Submitted: auto-replied\r\nMessage-Id: <{}@{reporting}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n",
        rng.hex(12)
    ));
    out.push_str(&format!(
        "--{boundary}\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThis is the mail system at host {reporting}.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients. It's attached below.\r\n\r\nFor further assistance, please send mail to postmaster.\r\n\r\nIf you do so, please include this problem report. You can\r\ndelete your own text from the attached returned message.\r\n\r\n                   The mail system\r\n\r\n{diagnostic_wrapped}\r\n"
    ));
    out.push_str(&format!(
        "--{boundary}\r\nContent-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; {reporting}\r\nX-Postfix-Queue-ID: {queue_id}\r\nX-Postfix-Sender: rfc822; {RECIPIENT}\r\nArrival-Date: {sent}\r\n\r\nFinal-Recipient: rfc822; {rcpt}\r\nOriginal-Recipient: rfc822;{rcpt}\r\nAction: failed\r\nStatus: {status}\r\nRemote-MTA: dns; {relay}\r\nDiagnostic-Code: smtp; {diagnostic}\r\n\r\n"
    ));
    out.push_str(&format!(
        "--{boundary}\r\nContent-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{original}\r\n--{boundary}--\r\n"
    ));
    out.into_bytes()
}

/// Spreads `count` arrivals over the date range, in order, with jitter.
pub(crate) fn arrival(index: usize, count: usize, rng_seed: u64) -> i64 {
    let step = DATES_SPAN / count.max(1) as i64;
    let jitter = Rng::derive(rng_seed, index as u64 ^ 0xDA7E).below(step.max(1) as u64) as i64;
    DATES_END - DATES_SPAN + index as i64 * step + jitter
}
