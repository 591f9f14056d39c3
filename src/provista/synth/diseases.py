"""Notifiable infectious diseases (法定传染病) as the generator draws them.

Incidence per 100,000 per year: National Health Commission of the PRC, 《2019年全国法定传染病疫情概况》
(overview of the national notifiable infectious disease situation, 2019): reported cases divided by the
2019 population (1.40 billion), rounded. 2019 is the last year before COVID-19 measures distorted the
figures. These are national rates; a province differs, which is why the generator adds a random effect
per county. Seasonal and age profiles are shapes, not measurements: peaks where the literature puts them
(influenza in winter, hand-foot-mouth disease in late spring and early summer, dengue in autumn).
"""

from __future__ import annotations

from dataclasses import dataclass

# Age bands for case reports: 0-4, 5-14, 15-24, 25-44, 45-64, 65+.
CASE_AGE_BANDS = (0, 5, 15, 25, 45, 65)
# Reporting deadline (hours from diagnosis) by class: class A within 2 hours, B and C within 24 hours.
REPORT_DEADLINE_HOURS = {"甲": 2, "乙": 24, "丙": 24}
CLASS_EN = {"甲": "A", "乙": "B", "丙": "C"}


@dataclass(frozen=True)
class NotifiableDisease:
    key: str
    name_zh: str
    name_en: str
    klass: str  # 甲 / 乙 / 丙
    icd10: str
    rate: float  # reported cases per 100,000 per year (2019, national)
    season: tuple[float, ...] = (1.0,) * 12  # relative, January ... December
    age: tuple[float, ...] = (1, 1, 1, 1, 1, 1)  # relative incidence by CASE_AGE_BANDS
    male_share: float = 0.52
    onset_to_diagnosis_days: float = 2.0  # mean delay
    outbreak_prone: bool = False


_SUMMER = (0.4, 0.4, 0.5, 0.7, 1.0, 1.4, 1.8, 1.9, 1.5, 1.0, 0.7, 0.5)

DISEASES: tuple[NotifiableDisease, ...] = (
    NotifiableDisease("cholera", "霍乱", "Cholera", "甲", "A00.9", 0.0011, _SUMMER, outbreak_prone=False),
    NotifiableDisease("plague", "鼠疫", "Plague", "甲", "A20.9", 0.0004),
    NotifiableDisease(
        "hepatitis_a",
        "甲型肝炎",
        "Hepatitis A",
        "乙",
        "B15.9",
        1.36,
        (1.2, 1.2, 1.3, 1.1, 1.0, 0.9, 0.8, 0.8, 0.8, 0.9, 1.0, 1.0),
        onset_to_diagnosis_days=5,
    ),
    NotifiableDisease(
        "hepatitis_b",
        "乙型肝炎",
        "Hepatitis B",
        "乙",
        "B16.9",
        71.6,
        age=(0.02, 0.05, 0.6, 1.3, 1.3, 0.9),
        male_share=0.65,
        onset_to_diagnosis_days=10,
    ),
    NotifiableDisease(
        "hepatitis_c",
        "丙型肝炎",
        "Hepatitis C",
        "乙",
        "B17.1",
        16.0,
        age=(0, 0.01, 0.3, 0.9, 1.6, 1.5),
        onset_to_diagnosis_days=10,
    ),
    NotifiableDisease(
        "hepatitis_e",
        "戊型肝炎",
        "Hepatitis E",
        "乙",
        "B17.2",
        2.0,
        (1.4, 1.5, 1.4, 1.1, 0.9, 0.8, 0.7, 0.7, 0.8, 0.8, 0.9, 1.0),
        age=(0.01, 0.05, 0.3, 0.8, 1.6, 1.8),
        male_share=0.7,
        onset_to_diagnosis_days=5,
    ),
    NotifiableDisease(
        "tuberculosis",
        "肺结核",
        "Pulmonary tuberculosis",
        "乙",
        "A15.0",
        55.6,
        (0.9, 0.9, 1.2, 1.2, 1.1, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9),
        age=(0.05, 0.1, 1, 0.9, 1.2, 2.2),
        male_share=0.7,
        onset_to_diagnosis_days=25,
    ),
    NotifiableDisease(
        "syphilis",
        "梅毒",
        "Syphilis",
        "乙",
        "A53.9",
        38.4,
        age=(0.1, 0.01, 0.8, 1.2, 1.1, 1.3),
        onset_to_diagnosis_days=10,
    ),
    NotifiableDisease(
        "gonorrhoea",
        "淋病",
        "Gonorrhoea",
        "乙",
        "A54.9",
        8.45,
        age=(0.01, 0.01, 2, 1.8, 0.5, 0.1),
        male_share=0.8,
        onset_to_diagnosis_days=4,
    ),
    NotifiableDisease(
        "hiv_aids",
        "艾滋病",
        "HIV/AIDS",
        "乙",
        "B24",
        5.10,
        age=(0.01, 0.01, 0.8, 1.2, 1.2, 1.0),
        male_share=0.8,
        onset_to_diagnosis_days=10,
    ),
    NotifiableDisease(
        "scarlet_fever",
        "猩红热",
        "Scarlet fever",
        "乙",
        "A38",
        5.87,
        (0.9, 0.5, 0.8, 1.3, 1.7, 1.4, 0.8, 0.4, 0.5, 0.9, 1.4, 1.4),
        age=(5, 12, 0.1, 0.05, 0.01, 0),
        male_share=0.6,
        outbreak_prone=True,
    ),
    NotifiableDisease(
        "bacillary_dysentery",
        "细菌性痢疾",
        "Bacillary dysentery",
        "乙",
        "A03.9",
        5.81,
        _SUMMER,
        age=(4, 1, 0.6, 0.7, 0.9, 1.3),
        outbreak_prone=True,
    ),
    NotifiableDisease(
        "brucellosis",
        "布鲁氏菌病",
        "Brucellosis",
        "乙",
        "A23.9",
        3.15,
        (0.6, 0.7, 1.0, 1.3, 1.6, 1.5, 1.3, 1.1, 0.9, 0.8, 0.6, 0.6),
        age=(0.05, 0.2, 0.6, 1.2, 1.6, 1.0),
        male_share=0.75,
        onset_to_diagnosis_days=14,
    ),
    NotifiableDisease(
        "dengue",
        "登革热",
        "Dengue",
        "乙",
        "A97.9",
        1.59,
        (0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 1.0, 2.5, 3.8, 3.0, 0.8, 0.2),
        age=(0.2, 0.5, 1, 1.2, 1.2, 0.8),
        outbreak_prone=True,
    ),
    NotifiableDisease(
        "measles",
        "麻疹",
        "Measles",
        "乙",
        "B05.9",
        0.21,
        (0.8, 1.0, 1.6, 1.8, 1.6, 1.2, 0.8, 0.6, 0.6, 0.6, 0.6, 0.7),
        age=(6, 1, 1, 1, 0.3, 0.1),
        outbreak_prone=True,
    ),
    NotifiableDisease(
        "pertussis",
        "百日咳",
        "Pertussis",
        "乙",
        "A37.9",
        2.15,
        (0.7, 0.6, 0.8, 1.0, 1.2, 1.4, 1.4, 1.2, 1.0, 0.9, 0.9, 0.9),
        age=(15, 3, 0.2, 0.2, 0.2, 0.2),
        onset_to_diagnosis_days=7,
    ),
    NotifiableDisease(
        "typhoid",
        "伤寒和副伤寒",
        "Typhoid and paratyphoid fever",
        "乙",
        "A01.4",
        0.66,
        _SUMMER,
        onset_to_diagnosis_days=5,
    ),
    NotifiableDisease(
        "hfrs",
        "肾综合征出血热",
        "Haemorrhagic fever with renal syndrome",
        "乙",
        "A98.5",
        0.69,
        (1.0, 0.6, 0.6, 0.7, 0.8, 0.7, 0.5, 0.4, 0.6, 1.0, 2.2, 1.9),
        age=(0.05, 0.2, 0.8, 1.1, 1.5, 1.2),
        male_share=0.72,
        onset_to_diagnosis_days=4,
    ),
    NotifiableDisease(
        "influenza",
        "流行性感冒",
        "Influenza",
        "丙",
        "J11.1",
        253.4,
        (3.0, 2.2, 1.2, 0.6, 0.4, 0.5, 0.7, 0.5, 0.3, 0.3, 0.7, 1.8),
        age=(4, 5, 1, 0.8, 0.7, 0.9),
        onset_to_diagnosis_days=1.5,
        outbreak_prone=True,
    ),
    NotifiableDisease(
        "mumps",
        "流行性腮腺炎",
        "Mumps",
        "丙",
        "B26.9",
        21.5,
        (0.8, 0.6, 0.9, 1.3, 1.6, 1.5, 1.2, 0.7, 0.8, 0.9, 0.9, 0.8),
        age=(2, 8, 1, 0.2, 0.1, 0.05),
        male_share=0.6,
        outbreak_prone=True,
    ),
    NotifiableDisease(
        "hfmd",
        "手足口病",
        "Hand, foot and mouth disease",
        "丙",
        "B08.4",
        137.4,
        (0.2, 0.2, 0.5, 1.4, 2.4, 2.2, 1.2, 0.7, 1.0, 1.2, 0.7, 0.3),
        age=(30, 3, 0.05, 0.05, 0.01, 0.01),
        male_share=0.6,
        onset_to_diagnosis_days=1.5,
        outbreak_prone=True,
    ),
    NotifiableDisease(
        "infectious_diarrhoea",
        "其它感染性腹泻病",
        "Other infectious diarrhoea",
        "丙",
        "A08.4",
        97.0,
        (1.4, 1.1, 0.9, 0.8, 0.9, 1.0, 1.1, 1.1, 0.8, 0.8, 0.9, 1.2),
        age=(8, 1, 0.7, 0.7, 0.8, 1.2),
        onset_to_diagnosis_days=1.5,
        outbreak_prone=True,
    ),
    NotifiableDisease(
        "ahc",
        "急性出血性结膜炎",
        "Acute haemorrhagic conjunctivitis",
        "丙",
        "B30.3",
        2.4,
        (0.3, 0.3, 0.4, 0.5, 0.7, 1.0, 1.8, 2.5, 2.2, 1.3, 0.6, 0.4),
        age=(0.5, 2, 1.5, 1, 0.8, 0.5),
        onset_to_diagnosis_days=1.5,
        outbreak_prone=True,
    ),
)
# Case classification (病例分类) with shares.
CASE_CLASSES = (("确诊病例", 0.62), ("临床诊断病例", 0.33), ("疑似病例", 0.04), ("病原携带者", 0.01))
