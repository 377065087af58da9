//! The people, companies and phrases realistic demo mail is made of
//! (data tables), and the helpers that pick from them.

use super::Rng;

const FIRST_NAMES: &[&str] = &[
    "Anna",
    "Lukas",
    "Sofia",
    "Mateo",
    "Priya",
    "Wei",
    "Yuki",
    "Olusegun",
    "Fatima",
    "Jean-Pierre",
    "Zoë",
    "José",
    "Björn",
    "Małgorzata",
    "Siobhán",
    "Chloé",
    "Nikolai",
    "Amara",
    "Hiroshi",
    "Ingrid",
    "Rafael",
    "Leila",
    "Tomás",
    "Emma",
    "Noah",
    "Oliver",
    "Mia",
    "Arjun",
    "Ana",
    "Kwame",
    "Lars",
    "Elif",
    "Dmitri",
    "Grace",
    "Hannah",
    "Ivan",
    "Jasmine",
    "Kenji",
    "Laura",
    "Marco",
    "Nadia",
    "Pablo",
    "Rosa",
    "Samuel",
    "Thandiwe",
    "Ulrike",
    "Victor",
];

const LAST_NAMES: &[&str] = &[
    "Müller",
    "Schmidt",
    "García",
    "Rossi",
    "Nakamura",
    "Chen",
    "Okafor",
    "Dubois",
    "Kowalski",
    "O'Brien",
    "Johansson",
    "Novák",
    "Singh",
    "Patel",
    "Kim",
    "Nguyen",
    "Silva",
    "Andersen",
    "Fischer",
    "Martin",
    "Smith",
    "Brown",
    "Taylor",
    "Wilson",
    "Lefèvre",
    "Papadopoulos",
    "Yılmaz",
    "Horváth",
    "Costa",
    "Murphy",
    "van der Berg",
    "Mensah",
    "Ivanova",
    "Haddad",
];

pub(super) const MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "posteo.de",
    "web.de",
    "fastmail.com",
    "proton.me",
    "orange.fr",
    "libero.it",
    "icloud.com",
    "gmx.net",
    "mailbox.org",
    "hotmail.com",
    "seznam.cz",
];

pub(super) const WORK_DOMAINS: &[&str] = &[
    "northwind-traders.com",
    "globex.io",
    "initech.net",
    "umbrella-labs.org",
    "hooli.xyz",
    "vandelay-industries.com",
    "wayne-enterprises.biz",
    "stark-solutions.eu",
    "cyberdyne.systems",
    "soylent-foods.co",
];

/// (display name, domain) of senders of automated mail.
pub(super) const BILLERS: &[(&str, &str)] = &[
    ("Acme Hosting", "acme-hosting.com"),
    ("Northwind Energy", "northwind-energy.com"),
    ("Globex Telecom", "globex-telecom.net"),
    ("Initech Cloud", "initech.cloud"),
    ("Papierwerk GmbH", "papierwerk.de"),
    ("Café Lumière", "cafe-lumiere.fr"),
    ("Bluebird Airlines", "bluebird-air.com"),
    ("Stadtwerke Süd", "stadtwerke-sued.de"),
];

pub(super) const NEWSLETTERS: &[(&str, &str, &str)] = &[
    ("The Weekly Byte", "news.weeklybyte.io", "tech"),
    ("Rustacean Digest", "digest.rustacean.dev", "Rust"),
    ("Green Thumb Monthly", "greenthumb.garden", "gardening"),
    ("City Library News", "library.example.org", "books"),
    ("Trailhead Outdoor", "mail.trailhead-outdoor.com", "hiking"),
    ("Kitchen Notes", "kitchen-notes.co", "cooking"),
    ("Open Source Weekly", "osweekly.org", "open source"),
];

pub(super) const SHOPS: &[(&str, &str)] = &[
    ("Parcelly", "parcelly.com"),
    ("Bookworm Books", "bookworm-books.com"),
    ("Gadget Galaxy", "gadgetgalaxy.shop"),
    ("Nordic Knitwear", "nordic-knit.se"),
];

pub(super) const SERVICES: &[(&str, &str)] = &[
    ("CodeHub", "codehub.dev"),
    ("Photobox", "photobox.example.com"),
    ("Northwind Bank", "northwindbank.com"),
    ("Cloudy Drive", "cloudydrive.io"),
];

pub(super) const TOPICS: &[&str] = &[
    "the quarterly report",
    "the office move",
    "next week's offsite",
    "the hiring plan",
    "the server migration",
    "the holiday schedule",
    "the new logo",
    "the customer survey",
    "the budget for Q3",
    "the release checklist",
    "the conference talk",
    "the garden party",
    "Grandma's birthday",
    "the flat viewing",
];

pub(super) const MEETINGS: &[&str] = &[
    "planning",
    "retrospective",
    "all-hands",
    "design review",
    "budget",
    "steering committee",
    "1:1",
    "kick-off",
];

pub(super) const PLACES: &[&str] = &[
    "Lisbon",
    "the lake",
    "Kyoto",
    "the Alps",
    "Edinburgh",
    "Marrakesh",
    "the coast",
    "Vienna",
    "Oaxaca",
];

pub(super) const WEEKDAY_NAMES: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];

pub(super) const PERSONAL_SENTENCES: &[&str] = &[
    "Hope you're doing well.",
    "It was great to catch up last weekend.",
    "Let me know if Saturday still works for you.",
    "The kids loved the museum, by the way.",
    "Are you free for a call later this week?",
    "Mum says hi and asks when you're visiting.",
    "I finally finished the book you recommended, and the ending surprised me.",
    "We should plan the next hike before it gets too cold.",
    "Thanks again for dinner, the lasagne was fantastic.",
    "The train was delayed again, so I'll be a bit late.",
    "Could you send me the address of that bakery?",
    "I found the old photos from school while clearing out the attic.",
    "No rush with the reply, just wanted to share.",
    "The weather here has been wonderful all week.",
];

pub(super) const WORK_SENTENCES: &[&str] = &[
    "Please find the agenda for the next meeting below.",
    "Action items are listed at the end of this mail.",
    "Can everyone confirm their availability by Friday?",
    "The budget review moved to next Tuesday.",
    "I've updated the roadmap document with the latest estimates.",
    "Marketing needs the final numbers before the board meeting.",
    "We agreed to postpone the migration until the new hardware arrives.",
    "Let's keep the discussion in the project channel from now on.",
    "Ping me if anything is blocking you.",
    "The customer confirmed the requirements in yesterday's call.",
    "Legal still has to sign off on the contract changes.",
    "The test environment will be down for maintenance on Sunday.",
    "Thanks to everyone who stayed late to get the release out.",
    "I've attached the notes; corrections welcome.",
];

pub(super) const NEWS_SENTENCES: &[&str] = &[
    "Here is what happened this week.",
    "Our most-read story was a deep dive into caching strategies.",
    "Don't miss the interview with this month's featured maintainer.",
    "Spring is the best time to divide perennials and plan your beds.",
    "The reading group meets on the first Thursday of every month.",
    "Three new trails opened in the national park this season.",
    "This week's recipe is a slow-cooked bean stew that freezes well.",
    "Registrations for the autumn meetup are now open.",
    "We fixed the broken link in last week's issue; sorry about that.",
    "As always, reply to this mail to tell us what you'd like to read.",
];

/// Subjects and bodies in other languages (subject, body sentences).
pub(super) const LOCALISED: &[(&str, &[&str])] = &[
    (
        "Rechnung für {month}",
        &[
            "Sehr geehrte Damen und Herren,",
            "anbei erhalten Sie Ihre Rechnung. Bitte überweisen Sie den Betrag innerhalb von 14 Tagen.",
            "Mit freundlichen Grüßen",
        ],
    ),
    (
        "Grüße aus {place}",
        &[
            "Hallo!",
            "Das Wetter ist herrlich und das Essen großartig.",
            "Bis bald, dein Jörg",
        ],
    ),
    (
        "Réunion de lundi : compte rendu",
        &[
            "Bonjour à tous,",
            "voici le compte rendu de la réunion. Les décisions sont résumées à la fin.",
            "Bonne journée,",
        ],
    ),
    (
        "Año nuevo, ¡nuevas ofertas!",
        &[
            "¡Hola!",
            "Empieza el año con descuentos de hasta el 40 % en toda la tienda.",
            "Saludos cordiales",
        ],
    ),
    (
        "会議の議事録（{n}月）",
        &[
            "皆様",
            "先日の会議の議事録を送付いたします。ご確認ください。",
            "よろしくお願いいたします。",
        ],
    ),
    (
        "Приглашение на встречу",
        &[
            "Добрый день!",
            "Приглашаем вас на встречу в четверг в 15:00.",
            "С уважением,",
        ],
    ),
    (
        "Ταξίδι στην Αθήνα",
        &[
            "Γεια σου!",
            "Σου στέλνω τις φωτογραφίες από το ταξίδι.",
            "Τα λέμε σύντομα.",
        ],
    ),
    (
        "Café ☕ on {weekday}?",
        &[
            "Hi!",
            "Fancy a coffee on {weekday}? The new place near the station does great croissants 🥐.",
            "Cheers",
        ],
    ),
    (
        "Zażółć gęślą jaźń – test polskich znaków",
        &[
            "Cześć,",
            "sprawdzam, czy polskie znaki wyświetlają się poprawnie.",
            "Pozdrawiam",
        ],
    ),
    (
        "Smörgåsbord på fredag",
        &[
            "Hej!",
            "Vi ses på fredag klockan sju. Ta med något gott att dricka.",
            "Kram",
        ],
    ),
];

const MONTH_NAMES_DE: &[&str] = &["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August"];

/// A made-up person: display name and address.
pub(super) fn person(rng: &mut Rng) -> (String, String) {
    let first = *rng.pick(FIRST_NAMES);
    let last = *rng.pick(LAST_NAMES);
    let name = format!("{first} {last}");
    let (f, l) = (ascii_slug(first), ascii_slug(last));
    let local = match rng.below(5) {
        0 => format!("{f}.{l}"),
        1 => format!("{}.{l}", &f[..1]),
        2 => format!("{f}{l}{}", rng.range(1, 99)),
        3 => format!("{f}_{l}"),
        _ => f.clone(),
    };
    let domain = if rng.percent(40) {
        *rng.pick(WORK_DOMAINS)
    } else {
        *rng.pick(MAIL_DOMAINS)
    };
    (name, format!("{local}@{domain}"))
}

/// Lower-case ASCII rendering of a name for an address local part.
pub(super) fn ascii_slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let s = match c {
            'a'..='z' | '0'..='9' | '-' => {
                out.push(c);
                continue;
            }
            'ä' | 'æ' => "ae",
            'ö' | 'ø' => "oe",
            'ü' => "ue",
            'ß' => "ss",
            'á' | 'à' | 'â' | 'å' | 'ã' => "a",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'í' | 'ì' | 'î' | 'ı' => "i",
            'ó' | 'ò' | 'ô' => "o",
            'ú' | 'ù' | 'û' => "u",
            'ñ' => "n",
            'ç' => "c",
            'ł' => "l",
            'ś' | 'š' => "s",
            'ž' | 'ź' | 'ż' => "z",
            _ => "",
        };
        out.push_str(s);
    }
    if out.is_empty() { "user".into() } else { out }
}

fn sentences(rng: &mut Rng, pool: &[&str], count: u64) -> String {
    (0..count).map(|_| *rng.pick(pool)).collect::<Vec<_>>().join(" ")
}

pub(super) fn paragraphs(rng: &mut Rng, pool: &[&str], min: u64, max: u64) -> Vec<String> {
    let count = rng.range(min, max);
    (0..count)
        .map(|_| {
            let n = rng.range(1, 5);
            sentences(rng, pool, n)
        })
        .collect()
}

pub(super) fn fill_placeholders(template: &str, rng: &mut Rng) -> String {
    let mut s = template.to_string();
    if s.contains("{month}") {
        s = s.replace("{month}", rng.pick::<&str>(MONTH_NAMES_DE));
    }
    if s.contains("{place}") {
        s = s.replace(
            "{place}",
            rng.pick::<&str>(&["München", "Zürich", "Köln", "Genève", "Málaga"]),
        );
    }
    if s.contains("{weekday}") {
        s = s.replace("{weekday}", rng.pick::<&str>(WEEKDAY_NAMES));
    }
    if s.contains("{n}") {
        s = s.replace("{n}", &rng.range(1, 12).to_string());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(ascii_slug("Müller"), "mueller");
        assert_eq!(ascii_slug("O'Brien"), "obrien");
        assert_eq!(ascii_slug("Małgorzata"), "malgorzata");
        assert_eq!(ascii_slug("van der Berg"), "vanderberg");
        assert_eq!(ascii_slug("Jean-Pierre"), "jean-pierre");
    }
}
