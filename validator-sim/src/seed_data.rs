//! The tables the reference query generator reads (spec validator-round.md 5.10), as synthetic
//! stand-ins with the same schema and similar distributions.
//!
//! The reference ships two sanctioned-individual lists (a Latin-script main list and a
//! transliteration list with a `Script` field). Their licence is unclear and scoring needs only
//! their schema and properties, so these lists are **synthetic**: invented names in the same
//! style (original capitalisation and punctuation, parts as short as 2 characters, some with a
//! space that the generator must skip), `Y-M-D` DOBs without zero padding, and residences in the
//! sanctions-list spelling (`Burma`, `Korea, North`) with Russia and Iran most frequent.
//!
//! The Faker locales are name pools per locale with the properties the generator relies on:
//! Latin locales give English/Spanish/French names (accents possible), Arabic-script and Cyrillic
//! locales give names of 3+ letters, CJK locales give 1–2 character names that the length filter
//! rejects (which is why the reference's `cjk` branch always fails, V4). Each Latin pool holds one
//! surname that fails the 3–20-character/no-space filter, so, as with Faker, about one round in
//! ten loses a Latin High Risk attempt and ends 5/4/6 (5.4). The Latin pools are
//! disjoint so a test can tell which locale a name came from.

/// One record of a sanctioned-individuals list.
#[derive(Debug, Clone, Copy)]
pub struct SanctionedRecord {
    pub first: &'static str,
    pub last: &'static str,
    /// `Y-M-D`, not zero-padded.
    pub dob: &'static str,
    /// `Country_Residence`, sanctions-list spelling.
    pub residence: &'static str,
    /// `Script` (transliteration list only; empty on the main list).
    pub script: &'static str,
}

const fn r(first: &'static str, last: &'static str, dob: &'static str, residence: &'static str) -> SanctionedRecord {
    SanctionedRecord { first, last, dob, residence, script: "" }
}

const fn t(
    first: &'static str,
    last: &'static str,
    dob: &'static str,
    residence: &'static str,
    script: &'static str,
) -> SanctionedRecord {
    SanctionedRecord { first, last, dob, residence, script }
}

/// The main list (Latin script), synthetic.
pub const SANCTIONED: &[SanctionedRecord] = &[
    r("Arkady", "VOLKHOV", "1961-3-14", "Russia"),
    r("Yevgeny", "Marchenkov", "1975-11-2", "Russia"),
    r("Oleg", "TARASEVICH", "1968-7-29", "Russia"),
    r("Lyubov", "Semakina", "1982-1-9", "Russia"),
    r("Timur", "Bakhtiyarov", "1979-5-30", "Russia"),
    r("Igor", "KRAVTSOV", "1958-12-1", "Russia"),
    r("Vadim", "Ostrogin", "1971-4-18", "Russia"),
    r("Nadezhda", "Ryabtseva", "1986-8-23", "Russia"),
    r("Gennady", "ZOLOTAREV", "1955-2-6", "Russia"),
    r("Stanislav", "Pechorin", "1990-10-11", "Russia"),
    r("Ruslan", "Khadzhiev", "1984-6-7", "Russia"),
    r("Anatoly", "Lesnikov", "1963-9-15", "Russia"),
    r("Vera", "Dobrynina", "1977-3-3", "Russia"),
    r("Pavel", "GUSAROV", "1969-11-27", "Russia"),
    r("Dariush", "Tabrizi", "1966-4-21", "Iran"),
    r("Mehran", "KHALILZADEH", "1973-12-9", "Iran"),
    r("Farhad", "Purnaseri", "1980-2-17", "Iran"),
    r("Kaveh", "Sadeghpour", "1959-7-5", "Iran"),
    r("Shirin", "Mojtahedi", "1988-5-12", "Iran"),
    r("Hossein", "ARDALANI", "1970-1-30", "Iran"),
    r("Nasser", "AL-HAKIMI", "1964-8-8", "Lebanon"),
    r("Ziad", "Haddadin", "1976-3-26", "Lebanon"),
    r("Rodrigo", "Villaseñor", "1981-9-19", "Mexico"),
    r("Ernesto", "CABRALES", "1967-6-2", "Mexico"),
    r("Guang", "ZHOU", "1972-10-4", "China"),
    r("Weiming", "Tan", "1985-12-25", "China"),
    r("Bohdan", "Yaremchuk", "1978-4-14", "Ukraine"),
    r("Aliaksandr", "Hrytsevich", "1974-7-7", "Belarus"),
    r("Siarhei", "Lukashonak", "1962-11-16", "Belarus"),
    r("Imran", "Qureshani", "1983-2-28", "Pakistan"),
    r("Bashir", "AL-SUWAIDI", "1965-5-1", "Syria"),
    r("Sa'id", "AL-MUQRI", "1979-8-13", "Syria"),
    r("Khalfan", "Bin Rashed", "1970-3-20", "United Arab Emirates"),
    r("Majid", "AL-ZAROUNI", "1987-6-24", "United Arab Emirates"),
    r("Abdulqawi", "AL-HUTHAYRI", "1960-1-1", "Yemen"),
    r("Julian", "Restrepo", "1976-9-9", "Colombia"),
    r("Aung", "Myat", "1969-2-14", "Burma"),
    r("Zaw", "Lin", "1983-12-3", "Burma"),
    r("Kerem", "Aksoylu", "1977-10-30", "Turkey"),
    r("Diosdado", "Marquina", "1963-4-4", "Venezuela"),
    r("Haidar", "AL-SAMARRAI", "1971-7-17", "Iraq"),
    r("Chol", "Ri", "1968-5-5", "Korea, North"),
    r("Jean-Pierre", "Kabongo", "1975-3-11", "Congo, Democratic Republic of the"),
    r("Goran", "Velkovski", "1980-8-29", "North Macedonia, The Republic of"),
    r("Maria Elena", "Ochoa", "1972-6-15", "Venezuela"),
    r("Abu", "Bakr al Rami", "1982-11-8", "Palestinian"),
];

/// The transliteration list (original scripts), synthetic.
pub const TRANSLITERATED: &[SanctionedRecord] = &[
    t("Баир", "Жамбалов", "1959-1-29", "Russia", "cyrillic"),
    t("Аркадий", "Волхов", "1961-3-14", "Russia", "cyrillic"),
    t("Евгений", "Марченков", "1975-11-2", "Russia", "cyrillic"),
    t("Олег", "Тарасевич", "1968-7-29", "Russia", "cyrillic"),
    t("Любовь", "Семакина", "1982-1-9", "Russia", "cyrillic"),
    t("Игорь", "Кравцов", "1958-12-1", "Russia", "cyrillic"),
    t("Вадим", "Острогин", "1971-4-18", "Russia", "cyrillic"),
    t("Надежда", "Рябцева", "1986-8-23", "Russia", "cyrillic"),
    t("Геннадий", "Золотарёв", "1955-2-6", "Russia", "cyrillic"),
    t("Руслан", "Хаджиев", "1984-6-7", "Russia", "cyrillic"),
    t("Анатолий", "Лесников", "1963-9-15", "Russia", "cyrillic"),
    t("Павел", "Гусаров", "1969-11-27", "Russia", "cyrillic"),
    t("Аляксандр", "Грыцэвіч", "1974-7-7", "Belarus", "cyrillic"),
    t("Богдан", "Яремчук", "1978-4-14", "Ukraine", "cyrillic"),
    t("Анна Мария", "Сидорова", "1990-2-2", "Russia", "cyrillic"),
    t("داریوش", "تبریزی", "1966-4-21", "Iran", "arabic"),
    t("مهران", "خلیل‌زاده", "1973-12-9", "Iran", "arabic"),
    t("حسن", "عثمانی", "1980-2-17", "Iran", "arabic"),
    t("ناصر", "الحکیمی", "1964-8-8", "Lebanon", "arabic"),
    t("زیاد", "حدادین", "1976-3-26", "Lebanon", "arabic"),
    t("光", "周", "1972-10-4", "China", "chinese"),
    t("建通", "王", "1985-12-25", "China", "chinese"),
    t("伟明", "谭", "1979-6-30", "China", "chinese"),
];

/// Sanctioned countries by script → Faker locale (5.10).
const LATIN_COUNTRIES: &[(&str, &str)] = &[
    ("Cuba", "es_ES"),
    ("Venezuela", "es_ES"),
    ("South Sudan", "en_US"),
    ("Monaco", "fr_FR"),
    ("Nigeria", "en_US"),
    ("Myanmar", "en_US"),
];
const ARABIC_COUNTRIES: &[(&str, &str)] = &[
    ("Iran", "fa_IR"),
    ("Afghanistan", "fa_IR"),
    ("Sudan", "ar_AA"),
    ("Iraq", "ar_AA"),
    ("Lebanon", "ar_AA"),
    ("Libya", "ar_AA"),
    ("Somalia", "ar_AA"),
    ("Yemen", "ar_AA"),
    ("Algeria", "ar_AA"),
    ("Syria", "ar_AA"),
    ("Western Sahara", "ar_AA"),
];
const CJK_COUNTRIES: &[(&str, &str)] = &[("North Korea", "ko_KR")];
const CYRILLIC_COUNTRIES: &[(&str, &str)] = &[
    ("Russia", "ru_RU"),
    ("Crimea", "ru_RU"),
    ("Donetsk", "ru_RU"),
    ("Luhansk", "ru_RU"),
    ("Belarus", "ru_RU"),
    ("Bulgaria", "bg_BG"),
    ("Ukraine", "uk_UA"),
];

/// The non-Latin scripts of the sanctioned-country table, in table order (5.3).
pub const NON_LATIN_SANCTIONED_SCRIPTS: &[&str] = &["arabic", "cjk", "cyrillic"];

/// `(country, locale)` pairs of a script of the sanctioned-country table (empty if unknown).
pub fn sanctioned_countries(script: &str) -> &'static [(&'static str, &'static str)] {
    match script {
        "latin" => LATIN_COUNTRIES,
        "arabic" => ARABIC_COUNTRIES,
        "cjk" => CJK_COUNTRIES,
        "cyrillic" => CYRILLIC_COUNTRIES,
        _ => &[],
    }
}

/// Every sanctioned country (for checks that a negative's country is not one).
pub fn all_sanctioned_countries() -> impl Iterator<Item = &'static str> {
    [LATIN_COUNTRIES, ARABIC_COUNTRIES, CJK_COUNTRIES, CYRILLIC_COUNTRIES].into_iter().flatten().map(|(c, _)| *c)
}

/// The 11 non-Latin locales of the non-Latin negative (5.5).
pub const NON_LATIN_LOCALES: &[&str] =
    &["ar_AA", "ar_PS", "ar_SA", "fa_IR", "bg_BG", "ru_RU", "uk_UA", "zh_CN", "zh_TW", "ja_JP", "ko_KR"];

/// A Faker locale's name pools.
#[derive(Debug)]
pub struct Locale {
    pub name: &'static str,
    pub first: &'static [&'static str],
    pub last: &'static [&'static str],
}

const ARABIC_FIRST: &[&str] = &["حسن", "عثمان", "يوسف", "خالد", "مريم", "ليلى", "عمر", "سلمى", "إبراهيم", "نور"];
const ARABIC_LAST: &[&str] = &["الحسيني", "العتيبي", "المصري", "الخطيب", "النجار", "الشمري", "عبدالله", "القاسم"];

const LOCALES: &[Locale] = &[
    Locale {
        name: "en_US",
        first: &[
            "James",
            "Mary",
            "Robert",
            "Patricia",
            "Michael",
            "Jennifer",
            "William",
            "Linda",
            "David",
            "Kimberly",
            "Brad",
            "Sandra",
            "Leslie",
            "Christopher",
            "Ashley",
            "Brandon",
            "Jessica",
            "Tyler",
            "Amanda",
            "Kevin",
        ],
        last: &[
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones",
            "Miller",
            "Davis",
            "Wilson",
            "Anderson",
            "Taylor",
            "Thomas",
            "Lawson",
            "King",
            "Moore",
            "Jackson",
            "White",
            "Harris",
            "Clark",
            "Lewis",
            "Walker",
            "Hall",
            "Allen",
            "Young",
            "Hernandez",
            "Wright",
            "Scott",
            "Green",
            "Baker",
            "Adams",
            "Ng",
        ],
    },
    Locale {
        name: "es_ES",
        first: &[
            "Demetrio",
            "Lucía",
            "Alejandro",
            "Rosalía",
            "Carmen",
            "Pablo",
            "Inés",
            "Martín",
            "Ángel",
            "Paloma",
            "Eusebio",
            "Nieves",
            "Bernardo",
            "Consuelo",
            "Teodoro",
            "Amparo",
            "Ramiro",
            "Leire",
            "Íñigo",
            "Begoña",
        ],
        last: &[
            "Roselló",
            "Fernández",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Ruiz",
            "Díaz",
            "Moreno",
            "Jiménez",
            "Navarro",
            "Iglesias",
            "Castillo",
            "Ortega",
            "Delgado",
            "Vidal",
            "Cabrera",
            "Quintana",
            "Soler",
            "Serrano",
            "Molina",
            "Blanco",
            "Suárez",
            "Romero",
            "Alonso",
            "Gil",
            "Marín",
            "Herrera",
            "de la Fuente",
        ],
    },
    Locale {
        name: "fr_FR",
        first: &[
            "Adrien",
            "Émilie",
            "Théo",
            "Léa",
            "Camille",
            "Hugo",
            "Chloé",
            "Louis",
            "Manon",
            "Gabriel",
            "Céline",
            "François",
            "Margaux",
            "Bastien",
            "Solène",
            "Mathis",
            "Anaïs",
            "Gaëtan",
            "Clémence",
            "Yves",
        ],
        last: &[
            "Lefèvre",
            "Pottier",
            "Dubois",
            "Moreau",
            "Laurent",
            "Girard",
            "Bonnet",
            "Dupont",
            "Lambert",
            "Fontaine",
            "Rousseau",
            "Mercier",
            "Blanchard",
            "Gauthier",
            "Perrin",
            "Chevalier",
            "Lemaire",
            "Marchand",
            "Barbier",
            "Renaud",
            "Collet",
            "Faure",
            "Roux",
            "Vincent",
            "Muller",
            "Lefebvre",
            "Garnier",
            "Brun",
            "Masson",
            "Le",
        ],
    },
    Locale {
        name: "en_GB",
        first: &["Oliver", "Amelia", "Harry", "Isla", "George", "Poppy", "Alfie", "Freya"],
        last: &["Wright", "Hughes", "Evans", "Roberts", "Turner", "Cooper", "Ward", "Morgan"],
    },
    Locale {
        name: "en_CA",
        first: &["Liam", "Emma", "Noah", "Ava", "Logan", "Chloe", "Owen", "Zoe"],
        last: &["Tremblay", "Gagnon", "Roy", "Bouchard", "Gauthier", "Morin", "Macdonald", "Campbell"],
    },
    Locale {
        name: "en_AU",
        first: &["Jack", "Charlotte", "Lachlan", "Matilda", "Cooper", "Ruby", "Riley", "Mia"],
        last: &["Kelly", "Nguyen", "Ryan", "Murphy", "Mitchell", "Young", "Baker", "Campbell"],
    },
    Locale {
        name: "fa_IR",
        first: &["زهرا", "محمد", "علی", "فاطمه", "حسین", "مریم", "رضا", "سارا", "امیر", "نرگس"],
        last: &["خسروجردی", "احمدی", "حسینی", "رضایی", "کریمی", "موسوی", "جعفری", "صادقی"],
    },
    Locale { name: "ar_AA", first: ARABIC_FIRST, last: ARABIC_LAST },
    Locale { name: "ar_PS", first: ARABIC_FIRST, last: ARABIC_LAST },
    Locale { name: "ar_SA", first: ARABIC_FIRST, last: ARABIC_LAST },
    Locale {
        name: "ru_RU",
        first: &["Александр", "Дмитрий", "Елена", "Ольга", "Сергей", "Наталья", "Иван", "Анна", "Лев", "Юлия"],
        last: &["Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Морозов", "Волкова"],
    },
    Locale {
        name: "bg_BG",
        first: &["Георги", "Мария", "Димитър", "Иванка", "Петър", "Елена", "Стоян", "Радка"],
        last: &["Георгиев", "Петрова", "Димитров", "Николова", "Стоянов", "Костова", "Илиев"],
    },
    Locale {
        name: "uk_UA",
        first: &["Олександр", "Оксана", "Тарас", "Ірина", "Богдан", "Наталія", "Андрій", "Леся"],
        last: &["Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Мельник", "Кравчук", "Олійник"],
    },
    Locale {
        name: "ko_KR", first: &["민준", "서연", "지훈", "하은", "도윤"], last: &["김", "이", "박", "최", "정"]
    },
    Locale {
        name: "zh_CN", first: &["伟", "秀英", "明", "静", "强"], last: &["王", "李", "张", "刘", "陈"]
    },
    Locale { name: "zh_TW", first: &["淑芬", "志明", "怡君", "俊傑"], last: &["陳", "林", "黃", "張"] },
    Locale {
        name: "ja_JP", first: &["太郎", "陽子", "翔", "美咲"], last: &["佐藤", "鈴木", "高橋", "田中"]
    },
];

/// The pools of `name` (`en_US` for an unknown locale, as the reference's fallback).
pub fn locale(name: &str) -> &'static Locale {
    LOCALES.iter().find(|l| l.name == name).unwrap_or(&LOCALES[0])
}

/// Which locale's pools a lowercased `first last` comes from (tests and reports).
pub fn locale_of_name(name: &str) -> Option<&'static str> {
    let (first, last) = name.split_once(' ')?;
    LOCALES
        .iter()
        .find(|l| l.first.iter().any(|f| f.to_lowercase() == first) && l.last.iter().any(|x| x.to_lowercase() == last))
        .map(|l| l.name)
}

/// The 173 valid countries for negatives (Appendix A, geonames order).
pub const VALID_COUNTRIES: &[&str] = &[
    "Andorra",
    "United Arab Emirates",
    "Albania",
    "Armenia",
    "Angola",
    "Argentina",
    "Austria",
    "Australia",
    "Aruba",
    "Azerbaijan",
    "Bosnia and Herzegovina",
    "Bangladesh",
    "Belgium",
    "Burkina Faso",
    "Bahrain",
    "Burundi",
    "Benin",
    "Brunei",
    "Bolivia",
    "Brazil",
    "Bahamas",
    "Bhutan",
    "Botswana",
    "Belize",
    "Canada",
    "Democratic Republic of the Congo",
    "Central African Republic",
    "Republic of the Congo",
    "Switzerland",
    "Ivory Coast",
    "Chile",
    "Cameroon",
    "China",
    "Colombia",
    "Costa Rica",
    "Cabo Verde",
    "Curacao",
    "Cyprus",
    "Czechia",
    "Germany",
    "Djibouti",
    "Denmark",
    "Dominican Republic",
    "Ecuador",
    "Estonia",
    "Egypt",
    "Eritrea",
    "Spain",
    "Ethiopia",
    "Finland",
    "Fiji",
    "France",
    "Gabon",
    "United Kingdom",
    "Georgia",
    "French Guiana",
    "Ghana",
    "Gambia",
    "Guinea",
    "Guadeloupe",
    "Equatorial Guinea",
    "Greece",
    "Guatemala",
    "Guam",
    "Guinea-Bissau",
    "Guyana",
    "Hong Kong",
    "Honduras",
    "Croatia",
    "Haiti",
    "Hungary",
    "Indonesia",
    "Ireland",
    "Israel",
    "India",
    "Iceland",
    "Italy",
    "Jamaica",
    "Jordan",
    "Japan",
    "Kenya",
    "Kyrgyzstan",
    "Cambodia",
    "Comoros",
    "South Korea",
    "Kosovo",
    "Kuwait",
    "Cayman Islands",
    "Kazakhstan",
    "Laos",
    "Saint Lucia",
    "Sri Lanka",
    "Liberia",
    "Lesotho",
    "Lithuania",
    "Luxembourg",
    "Latvia",
    "Morocco",
    "Moldova",
    "Montenegro",
    "Madagascar",
    "North Macedonia",
    "Mali",
    "Mongolia",
    "Macao",
    "Martinique",
    "Mauritania",
    "Montserrat",
    "Malta",
    "Mauritius",
    "Malawi",
    "Mexico",
    "Malaysia",
    "Mozambique",
    "Namibia",
    "New Caledonia",
    "Niger",
    "Nicaragua",
    "The Netherlands",
    "Norway",
    "Nepal",
    "New Zealand",
    "Oman",
    "Panama",
    "Peru",
    "French Polynesia",
    "Papua New Guinea",
    "Philippines",
    "Pakistan",
    "Poland",
    "Puerto Rico",
    "Palestinian Territory",
    "Portugal",
    "Paraguay",
    "Qatar",
    "Reunion",
    "Romania",
    "Serbia",
    "Rwanda",
    "Saudi Arabia",
    "Sweden",
    "Singapore",
    "Slovenia",
    "Slovakia",
    "Sierra Leone",
    "Senegal",
    "Suriname",
    "El Salvador",
    "Eswatini",
    "Turks and Caicos Islands",
    "Chad",
    "Togo",
    "Thailand",
    "Tajikistan",
    "Timor Leste",
    "Turkmenistan",
    "Tunisia",
    "Turkey",
    "Trinidad and Tobago",
    "Taiwan",
    "Tanzania",
    "Uganda",
    "United States",
    "Uruguay",
    "Uzbekistan",
    "Saint Vincent and the Grenadines",
    "British Virgin Islands",
    "U.S. Virgin Islands",
    "Vietnam",
    "Mayotte",
    "South Africa",
    "Zambia",
    "Zimbabwe",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_the_reference_shape() {
        assert_eq!(VALID_COUNTRIES.len(), 173);
        for c in all_sanctioned_countries() {
            assert!(!VALID_COUNTRIES.contains(&c), "{c} is sanctioned");
        }
        for l in NON_LATIN_LOCALES {
            assert_eq!(locale(l).name, *l, "pools for {l}");
        }
        let ok = |s: &str| (3..=20).contains(&s.chars().count());
        for l in ["ko_KR", "zh_CN", "zh_TW", "ja_JP"] {
            assert!(locale(l).last.iter().all(|n| !ok(n)), "{l}: CJK surnames fail the length filter");
        }
        assert!(TRANSLITERATED.iter().all(|r| ["cyrillic", "arabic", "chinese"].contains(&r.script)));
        // Latin pools are disjoint, so a name tells its locale.
        for (i, a) in LOCALES[..3].iter().enumerate() {
            for b in &LOCALES[i + 1..3] {
                assert!(a.first.iter().all(|f| !b.first.contains(f)), "{} / {}", a.name, b.name);
            }
        }
    }
}
