"""What the synthetic province is made of: diagnoses, departments, operations, labs, drugs, names.

These are declarative tables, read by the generator. Frequencies are plausible, not measured: they give
the shape (children get bronchitis, the elderly strokes, influenza peaks in winter) without claiming a
source. The notifiable diseases, which must be realistic in size, live in ``diseases.py`` with sources.
"""

from __future__ import annotations

from dataclasses import dataclass

# Age bands used for diagnosis weights: 0-4, 5-14, 15-44, 45-64, 65+.
DX_AGE_BANDS = (0, 5, 15, 45, 65)

# Monthly multipliers (January ... December); each profile has mean 1.
SEASONS: dict[str, tuple[float, ...]] = {
    "flat": (1.0,) * 12,
    "winter": (1.7, 1.5, 1.1, 0.8, 0.7, 0.6, 0.6, 0.6, 0.7, 0.9, 1.2, 1.6),
    "summer": (0.6, 0.6, 0.7, 0.9, 1.1, 1.3, 1.6, 1.6, 1.2, 0.9, 0.8, 0.7),
    "spring": (0.7, 0.9, 1.5, 1.7, 1.4, 0.9, 0.7, 0.7, 0.9, 1.0, 1.0, 0.8),
    "early_summer": (0.3, 0.3, 0.6, 1.5, 2.2, 2.0, 1.3, 0.8, 1.0, 1.1, 0.6, 0.3),
    "cold": (1.3, 1.2, 1.1, 1.0, 0.9, 0.8, 0.8, 0.8, 0.9, 1.0, 1.1, 1.3),
}

DEPARTMENTS: dict[str, tuple[str, str]] = {
    # code: (name_zh, name_en)
    "GEN": ("全科", "General practice"),
    "MED": ("内科", "Internal medicine"),
    "RES": ("呼吸内科", "Respiratory medicine"),
    "CAR": ("心血管内科", "Cardiology"),
    "NEU": ("神经内科", "Neurology"),
    "END": ("内分泌科", "Endocrinology"),
    "GAS": ("消化内科", "Gastroenterology"),
    "SUR": ("普外科", "General surgery"),
    "ORT": ("骨科", "Orthopaedics"),
    "PED": ("儿科", "Paediatrics"),
    "OBG": ("妇产科", "Obstetrics and gynaecology"),
    "OPH": ("眼科", "Ophthalmology"),
    "ENT": ("耳鼻咽喉科", "Otorhinolaryngology"),
    "DER": ("皮肤科", "Dermatology"),
    "STO": ("口腔科", "Stomatology"),
    "ONC": ("肿瘤科", "Oncology"),
    "INF": ("感染科", "Infectious diseases"),
    "URO": ("泌尿外科", "Urology"),
    "EME": ("急诊科", "Emergency"),
}
# Departments that keep inpatient beds (the rest are outpatient only).
INPATIENT_DEPARTMENTS = (
    "MED",
    "RES",
    "CAR",
    "NEU",
    "END",
    "GAS",
    "SUR",
    "ORT",
    "PED",
    "OBG",
    "OPH",
    "ONC",
    "INF",
    "URO",
)
# Departments by hospital level; a diagnosis whose department is missing falls back to MED/SUR/GEN.
LEVEL_DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "三级": tuple(DEPARTMENTS),
    "二级": (
        "MED",
        "RES",
        "CAR",
        "NEU",
        "GAS",
        "SUR",
        "ORT",
        "PED",
        "OBG",
        "OPH",
        "ENT",
        "DER",
        "STO",
        "INF",
        "EME",
    ),
    "一级": ("GEN", "MED", "SUR", "PED", "STO", "EME"),
    "社区": ("GEN", "STO"),
}
SURGICAL_DEPARTMENTS = {"SUR", "ORT", "OBG", "OPH", "ONC", "URO", "ENT", "STO"}


@dataclass(frozen=True)
class Diagnosis:
    """One ICD-10 diagnosis and how it behaves in the province."""

    icd10: str
    dept: str
    weight: float  # relative frequency among outpatient visits
    age: tuple[float, float, float, float, float]  # relative rate by DX_AGE_BANDS
    sex: str = "B"  # B both, M male only, F female only
    season: str = "flat"
    inpatient: float = 0.02  # relative propensity to be an inpatient stay
    emergency: float = 0.02  # relative propensity to be an emergency visit
    los: float = 7.0  # mean length of stay (days) when admitted
    death: float = 0.0  # inpatient death probability (65+ doubles it)
    operation: str = ""  # ICD-9-CM-3 code of the usual operation, if any
    op_level: int = 0  # 手术级别 1-4
    op_share: float = 0.0  # share of admissions with that operation
    labs: tuple[str, ...] = ("GLU",)
    drugs: tuple[str, ...] = ()


DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis(
        "J06.9",
        "RES",
        14,
        (5, 3, 1, 0.8, 0.8),
        season="winter",
        emergency=0.05,
        los=4,
        labs=("WBC", "CRP", "TEMP"),
        drugs=("AMB", "PCM", "LOR"),
    ),
    Diagnosis(
        "J20.9",
        "RES",
        6,
        (4, 2, 0.6, 0.8, 1.2),
        season="winter",
        inpatient=0.05,
        los=6,
        labs=("WBC", "CRP"),
        drugs=("AMB", "AMX", "AZI"),
    ),
    Diagnosis(
        "J18.9",
        "RES",
        2,
        (4, 1, 0.3, 0.8, 3),
        season="winter",
        inpatient=0.6,
        emergency=0.1,
        los=8,
        death=0.01,
        labs=("WBC", "CRP", "TEMP"),
        drugs=("CXM", "AZI", "AMB"),
    ),
    Diagnosis(
        "J44.1",
        "RES",
        1.5,
        (0, 0, 0.05, 1, 4),
        season="cold",
        inpatient=0.5,
        emergency=0.1,
        los=10,
        death=0.02,
        labs=("WBC", "CRP"),
        drugs=("SAL", "CXM"),
    ),
    Diagnosis(
        "J45.9", "RES", 1.2, (1, 2, 1, 1, 1), season="spring", emergency=0.06, los=6, drugs=("SAL", "MON")
    ),
    Diagnosis(
        "J11.1",
        "RES",
        3,
        (4, 4, 1, 0.8, 1.2),
        season="winter",
        emergency=0.05,
        inpatient=0.03,
        los=5,
        labs=("WBC", "TEMP"),
        drugs=("OSE", "PCM"),
    ),
    Diagnosis("J02.9", "ENT", 4, (2, 3, 1, 0.6, 0.5), season="winter", labs=("WBC",), drugs=("AMX", "PCM")),
    Diagnosis(
        "J03.9",
        "PED",
        3,
        (3, 4, 0.6, 0.2, 0.1),
        season="winter",
        labs=("WBC", "CRP", "TEMP"),
        drugs=("AMX", "IBU"),
    ),
    Diagnosis("J30.4", "ENT", 2, (0.5, 2, 1.5, 1, 0.5), season="spring", drugs=("LOR", "MON")),
    Diagnosis(
        "I10",
        "CAR",
        12,
        (0, 0, 0.3, 3, 5),
        inpatient=0.01,
        los=7,
        labs=("GLU", "CRE"),
        drugs=("AML", "LOS", "MET"),
    ),
    Diagnosis(
        "I25.1",
        "CAR",
        3,
        (0, 0, 0.05, 1.5, 4),
        season="cold",
        inpatient=0.15,
        los=8,
        death=0.01,
        operation="36.06",
        op_level=4,
        op_share=0.3,
        labs=("GLU", "CRE"),
        drugs=("ASP", "ATO", "CLO"),
    ),
    Diagnosis(
        "I50.9",
        "CAR",
        1,
        (0, 0, 0.02, 0.5, 4),
        season="cold",
        inpatient=0.5,
        emergency=0.1,
        los=10,
        death=0.05,
        labs=("CRE",),
        drugs=("MET", "LOS"),
    ),
    Diagnosis("I48.9", "CAR", 0.8, (0, 0, 0.02, 0.6, 3), inpatient=0.2, los=7, drugs=("MET", "CLO")),
    Diagnosis(
        "I63.9",
        "NEU",
        1.5,
        (0, 0, 0.05, 1, 4),
        season="cold",
        inpatient=0.7,
        emergency=0.2,
        los=12,
        death=0.04,
        labs=("GLU", "CRE"),
        drugs=("ASP", "ATO"),
    ),
    Diagnosis("G43.9", "NEU", 1.5, (0, 0.5, 2, 1, 0.3), sex="B", drugs=("IBU",)),
    Diagnosis("R51", "NEU", 2, (0.2, 1, 1.5, 1, 1), emergency=0.05, drugs=("PCM",)),
    Diagnosis(
        "E11.9", "END", 8, (0, 0, 0.3, 3, 4), inpatient=0.02, los=9, labs=("GLU", "CRE"), drugs=("MTF", "INS")
    ),
    Diagnosis("E78.5", "END", 3, (0, 0, 0.3, 2, 2), labs=("GLU",), drugs=("ATO",)),
    Diagnosis("K29.7", "GAS", 6, (0.1, 0.5, 1.5, 1.5, 1.2), drugs=("OME",)),
    Diagnosis("K21.9", "GAS", 2, (0, 0.2, 1, 1.5, 1.2), drugs=("OME",)),
    Diagnosis(
        "A09.9",
        "GAS",
        4,
        (3, 1.5, 1, 0.8, 1),
        season="summer",
        emergency=0.08,
        inpatient=0.02,
        los=4,
        labs=("WBC",),
        drugs=("ORS", "MNT"),
    ),
    Diagnosis(
        "A08.0",
        "PED",
        1.5,
        (6, 0.5, 0, 0, 0),
        season="winter",
        inpatient=0.1,
        los=4,
        labs=("WBC",),
        drugs=("ORS", "MNT"),
    ),
    Diagnosis(
        "K35.8",
        "SUR",
        0.6,
        (0.1, 1.5, 1.5, 0.8, 0.5),
        inpatient=0.9,
        emergency=0.4,
        los=5,
        operation="47.09",
        op_level=2,
        op_share=0.85,
        labs=("WBC", "CRP"),
        drugs=("CXM",),
    ),
    Diagnosis(
        "K80.2",
        "SUR",
        0.8,
        (0, 0, 0.6, 1.5, 1.5),
        inpatient=0.6,
        los=6,
        operation="51.23",
        op_level=3,
        op_share=0.8,
        labs=("ALT",),
        drugs=("OME",),
    ),
    Diagnosis(
        "K40.9",
        "SUR",
        0.5,
        (0.5, 0.3, 0.6, 1.2, 1.5),
        sex="M",
        inpatient=0.8,
        los=4,
        operation="53.00",
        op_level=2,
        op_share=0.9,
    ),
    Diagnosis("M54.5", "ORT", 5, (0, 0.1, 1.5, 2, 1.5), drugs=("IBU",)),
    Diagnosis(
        "M17.9",
        "ORT",
        2,
        (0, 0, 0.2, 2, 3),
        inpatient=0.05,
        los=9,
        operation="81.54",
        op_level=4,
        op_share=0.7,
        drugs=("IBU",),
    ),
    Diagnosis(
        "S72.0",
        "ORT",
        0.5,
        (0, 0, 0.05, 0.4, 4),
        inpatient=0.95,
        emergency=0.5,
        los=12,
        death=0.02,
        operation="81.52",
        op_level=3,
        op_share=0.8,
        labs=("HGB",),
    ),
    Diagnosis(
        "S52.5",
        "ORT",
        0.8,
        (0.5, 2, 1, 1, 1.5),
        emergency=0.5,
        inpatient=0.3,
        los=5,
        operation="79.32",
        op_level=2,
        op_share=0.7,
        labs=("HGB",),
        drugs=("IBU",),
    ),
    Diagnosis("S06.0", "NEU", 0.5, (1, 1.5, 1.2, 0.8, 1), emergency=0.6, inpatient=0.2, los=5),
    Diagnosis("N39.0", "URO", 3, (0.5, 0.5, 1.5, 1.2, 2), labs=("WBC",), drugs=("CXM",)),
    Diagnosis(
        "N40",
        "URO",
        2,
        (0, 0, 0.05, 1.5, 4),
        sex="M",
        inpatient=0.05,
        los=7,
        operation="60.29",
        op_level=3,
        op_share=0.6,
        drugs=("TAM",),
    ),
    Diagnosis(
        "N18.9", "MED", 0.8, (0, 0, 0.2, 1, 2.5), inpatient=0.2, los=10, death=0.02, labs=("CRE", "HGB")
    ),
    Diagnosis("Z34.9", "OBG", 4, (0, 0, 2.5, 0.01, 0), sex="F", labs=("HGB", "GLU")),
    Diagnosis("O80.9", "OBG", 0.6, (0, 0, 2.5, 0.01, 0), sex="F", inpatient=60, los=3, labs=("HGB",)),
    Diagnosis(
        "O82.9",
        "OBG",
        0.4,
        (0, 0, 2.5, 0.01, 0),
        sex="F",
        inpatient=60,
        los=5,
        operation="74.1",
        op_level=3,
        op_share=1.0,
        labs=("HGB",),
    ),
    Diagnosis(
        "C34.9",
        "ONC",
        0.6,
        (0, 0, 0.05, 1.2, 2.5),
        inpatient=0.5,
        los=12,
        death=0.06,
        operation="32.49",
        op_level=4,
        op_share=0.2,
        labs=("HGB", "WBC"),
    ),
    Diagnosis(
        "C16.9",
        "ONC",
        0.4,
        (0, 0, 0.05, 1.2, 2),
        inpatient=0.5,
        los=14,
        death=0.04,
        operation="43.7",
        op_level=4,
        op_share=0.3,
        labs=("HGB",),
    ),
    Diagnosis(
        "C18.9",
        "ONC",
        0.4,
        (0, 0, 0.05, 1.2, 2),
        inpatient=0.5,
        los=13,
        death=0.03,
        operation="45.73",
        op_level=4,
        op_share=0.3,
        labs=("HGB",),
    ),
    Diagnosis(
        "C50.9",
        "ONC",
        0.5,
        (0, 0, 0.4, 1.5, 1),
        sex="F",
        inpatient=0.4,
        los=9,
        death=0.01,
        operation="85.43",
        op_level=3,
        op_share=0.4,
        labs=("HGB",),
    ),
    Diagnosis(
        "C22.0",
        "ONC",
        0.3,
        (0, 0, 0.1, 1.5, 1.5),
        inpatient=0.5,
        los=12,
        death=0.08,
        operation="50.22",
        op_level=4,
        op_share=0.2,
        labs=("ALT", "HGB"),
    ),
    Diagnosis("H10.9", "OPH", 2, (1.5, 1.5, 1, 0.8, 0.8), season="spring"),
    Diagnosis(
        "H25.9",
        "OPH",
        1.2,
        (0, 0, 0.02, 0.8, 4),
        inpatient=0.15,
        los=3,
        operation="13.41",
        op_level=2,
        op_share=0.95,
    ),
    Diagnosis("H66.9", "ENT", 1.5, (4, 2, 0.4, 0.3, 0.3), season="winter", drugs=("AMX",)),
    Diagnosis("L30.9", "DER", 3, (1, 1, 1, 1, 1.2), season="summer", drugs=("LOR",)),
    Diagnosis("L50.9", "DER", 1.5, (1, 1, 1.2, 1, 0.8), season="spring", drugs=("LOR",)),
    Diagnosis("K02.9", "STO", 4, (1, 3, 1, 1, 0.8)),
    Diagnosis("F32.9", "NEU", 1, (0, 0.3, 1.5, 1.2, 1)),
    Diagnosis(
        "B08.4",
        "PED",
        1,
        (8, 1, 0.02, 0, 0),
        season="early_summer",
        inpatient=0.03,
        los=5,
        labs=("WBC", "TEMP"),
        drugs=("IBU",),
    ),
    Diagnosis("B26.9", "PED", 0.3, (0.5, 3, 0.3, 0.05, 0), season="spring", drugs=("IBU",)),
    Diagnosis(
        "A15.0",
        "INF",
        0.2,
        (0, 0.1, 1, 1.2, 2),
        inpatient=0.3,
        los=15,
        death=0.01,
        labs=("CRP",),
        drugs=("INH",),
    ),
    Diagnosis("B18.1", "INF", 1.5, (0, 0.1, 1.5, 1.5, 0.8), labs=("ALT",), drugs=("ETV",)),
    Diagnosis("Z00.0", "GEN", 6, (2, 1, 1, 1.2, 1.5), labs=("GLU", "HGB")),
)

# ICD-9-CM-3 operations used above: (name_zh, name_en, mean minutes).
OPERATIONS: dict[str, tuple[str, str, int]] = {
    "36.06": ("冠状动脉支架置入术", "Coronary stent insertion", 90),
    "47.09": ("阑尾切除术", "Appendectomy", 60),
    "51.23": ("腹腔镜胆囊切除术", "Laparoscopic cholecystectomy", 80),
    "53.00": ("腹股沟疝修补术", "Inguinal hernia repair", 60),
    "81.54": ("全膝关节置换术", "Total knee replacement", 120),
    "81.52": ("部分髋关节置换术", "Partial hip replacement", 110),
    "79.32": ("桡骨骨折切开复位内固定术", "Open reduction internal fixation, radius", 75),
    "60.29": ("经尿道前列腺切除术", "Transurethral prostatectomy", 80),
    "74.1": ("子宫下段剖宫产术", "Low cervical caesarean section", 50),
    "32.49": ("肺叶切除术", "Lobectomy of lung", 180),
    "43.7": ("部分胃切除术伴空肠吻合术", "Partial gastrectomy with jejunal anastomosis", 200),
    "45.73": ("右半结肠切除术", "Right hemicolectomy", 190),
    "85.43": ("单侧扩大单纯乳房切除术", "Unilateral extended simple mastectomy", 120),
    "50.22": ("部分肝切除术", "Partial hepatectomy", 220),
    "13.41": ("白内障超声乳化抽吸术", "Phacoemulsification of cataract", 30),
}


@dataclass(frozen=True)
class Lab:
    """A laboratory test or vital sign: LOINC code, canonical unit, and how values are drawn."""

    key: str
    loinc: str
    name_zh: str
    name_en: str
    unit: str
    mean: float
    sd: float
    low: float  # plausible floor for the draw
    alt_unit: str = ""  # the unit some vendors send instead
    alt_factor: float = 1.0  # value in alt_unit = value in unit * alt_factor + alt_offset
    decimals: int = 1
    alt_offset: float = 0.0


LABS: dict[str, Lab] = {
    "GLU": Lab("GLU", "2345-7", "葡萄糖", "Glucose", "mmol/L", 6.0, 1.6, 3.0, "mg/dL", 18.016),
    "HGB": Lab("HGB", "718-7", "血红蛋白", "Hemoglobin", "g/L", 132, 16, 60, "g/dL", 0.1, decimals=0),
    "WBC": Lab("WBC", "6690-2", "白细胞计数", "Leukocytes", "10*9/L", 7.5, 2.8, 1.5),
    "CRE": Lab("CRE", "2160-0", "肌酐", "Creatinine", "umol/L", 78, 22, 30, "mg/dL", 1 / 88.42, decimals=0),
    "ALT": Lab("ALT", "1742-6", "丙氨酸氨基转移酶", "Alanine aminotransferase", "U/L", 26, 14, 5, decimals=0),
    "CRP": Lab("CRP", "1988-5", "C反应蛋白", "C reactive protein", "mg/L", 8, 12, 0.5),
    "TEMP": Lab(
        "TEMP", "8310-5", "体温", "Body temperature", "Cel", 37.6, 0.8, 35.5, "[degF]", 1.8, alt_offset=32.0
    ),
}


@dataclass(frozen=True)
class Drug:
    key: str
    code: str  # the province's drug catalogue code (synthetic)
    atc: str
    name_zh: str
    name_en: str
    dose: float
    unit: str


DRUGS: dict[str, Drug] = {
    d.key: d
    for d in (
        Drug("AMX", "XJ01CAA040", "J01CA04", "阿莫西林胶囊", "Amoxicillin", 0.5, "g"),
        Drug("CXM", "XJ01DCC020", "J01DC02", "头孢呋辛酯片", "Cefuroxime axetil", 0.25, "g"),
        Drug("AZI", "XJ01FAA100", "J01FA10", "阿奇霉素片", "Azithromycin", 0.25, "g"),
        Drug("OSE", "XJ05AHA020", "J05AH02", "奥司他韦胶囊", "Oseltamivir", 75, "mg"),
        Drug("MTF", "XA10BAA020", "A10BA02", "二甲双胍片", "Metformin", 0.5, "g"),
        Drug("INS", "XA10AEA040", "A10AE04", "甘精胰岛素注射液", "Insulin glargine", 10, "U"),
        Drug("AML", "XC08CAA010", "C08CA01", "氨氯地平片", "Amlodipine", 5, "mg"),
        Drug("LOS", "XC09CAA010", "C09CA01", "氯沙坦钾片", "Losartan", 50, "mg"),
        Drug("MET", "XC07ABA020", "C07AB02", "美托洛尔缓释片", "Metoprolol", 47.5, "mg"),
        Drug("ATO", "XC10AAA050", "C10AA05", "阿托伐他汀钙片", "Atorvastatin", 20, "mg"),
        Drug("ASP", "XB01ACA060", "B01AC06", "阿司匹林肠溶片", "Aspirin", 100, "mg"),
        Drug("CLO", "XB01ACA040", "B01AC04", "氯吡格雷片", "Clopidogrel", 75, "mg"),
        Drug("OME", "XA02BCA010", "A02BC01", "奥美拉唑肠溶胶囊", "Omeprazole", 20, "mg"),
        Drug("IBU", "XM01AEA010", "M01AE01", "布洛芬缓释胶囊", "Ibuprofen", 0.3, "g"),
        Drug("PCM", "XN02BEA010", "N02BE01", "对乙酰氨基酚片", "Paracetamol", 0.5, "g"),
        Drug("SAL", "XR03ACA020", "R03AC02", "沙丁胺醇气雾剂", "Salbutamol", 100, "ug"),
        Drug("MON", "XR03DCA030", "R03DC03", "孟鲁司特钠片", "Montelukast", 10, "mg"),
        Drug("LOR", "XR06AXA130", "R06AX13", "氯雷他定片", "Loratadine", 10, "mg"),
        Drug("AMB", "XR05CBA060", "R05CB06", "盐酸氨溴索口服溶液", "Ambroxol", 30, "mg"),
        Drug("ORS", "XA07CAA000", "A07CA", "口服补液盐散", "Oral rehydration salts", 5.125, "g"),
        Drug("MNT", "XA07BCA050", "A07BC05", "蒙脱石散", "Diosmectite", 3, "g"),
        Drug("TAM", "XG04CAA020", "G04CA02", "坦索罗辛缓释胶囊", "Tamsulosin", 0.2, "mg"),
        Drug("INH", "XJ04ACA010", "J04AC01", "异烟肼片", "Isoniazid", 0.3, "g"),
        Drug("ETV", "XJ05AFA100", "J05AF10", "恩替卡韦片", "Entecavir", 0.5, "mg"),
    )
}

# Common surnames with their share of the population (per cent), from the Ministry of Public Security's
# 2020 report on registered names (《二〇二〇年全国姓名报告》); the rest of the mass is spread over the tail.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.12),
    ("李", 6.94),
    ("张", 6.41),
    ("刘", 5.38),
    ("陈", 4.53),
    ("杨", 3.08),
    ("黄", 2.23),
    ("赵", 2.05),
    ("吴", 1.90),
    ("周", 1.87),
    ("徐", 1.45),
    ("孙", 1.38),
    ("马", 1.29),
    ("朱", 1.28),
    ("胡", 1.16),
    ("郭", 1.15),
    ("何", 1.06),
    ("林", 1.02),
    ("高", 1.00),
    ("罗", 0.95),
    ("郑", 0.93),
    ("梁", 0.86),
    ("谢", 0.76),
    ("宋", 0.70),
    ("唐", 0.69),
    ("许", 0.66),
    ("韩", 0.65),
    ("邓", 0.62),
    ("冯", 0.62),
    ("曹", 0.61),
    ("彭", 0.58),
    ("曾", 0.57),
    ("肖", 0.56),
    ("田", 0.54),
    ("董", 0.53),
    ("潘", 0.51),
    ("袁", 0.50),
    ("蔡", 0.48),
    ("蒋", 0.48),
    ("余", 0.47),
    ("于", 0.47),
    ("杜", 0.45),
    ("叶", 0.45),
    ("程", 0.44),
    ("魏", 0.43),
    ("苏", 0.42),
    ("吕", 0.42),
    ("丁", 0.41),
    ("任", 0.40),
    ("卢", 0.40),
    ("姚", 0.39),
    ("沈", 0.38),
    ("钟", 0.38),
    ("姜", 0.37),
    ("崔", 0.36),
    ("谭", 0.35),
    ("陆", 0.35),
    ("范", 0.34),
    ("汪", 0.34),
    ("廖", 0.33),
    ("石", 0.33),
    ("金", 0.32),
    ("韦", 0.32),
    ("贾", 0.31),
    ("夏", 0.30),
    ("付", 0.30),
    ("方", 0.29),
    ("邹", 0.28),
    ("熊", 0.28),
    ("白", 0.28),
    ("孟", 0.27),
    ("秦", 0.27),
    ("邱", 0.27),
    ("侯", 0.26),
    ("江", 0.26),
    ("尹", 0.25),
    ("薛", 0.25),
    ("闫", 0.25),
    ("段", 0.24),
    ("雷", 0.24),
    ("龙", 0.23),
    ("黎", 0.23),
    ("史", 0.22),
    ("陶", 0.22),
    ("贺", 0.22),
    ("毛", 0.21),
    ("郝", 0.21),
    ("顾", 0.21),
    ("龚", 0.20),
    ("邵", 0.20),
    ("万", 0.19),
    ("覃", 0.19),
    ("武", 0.19),
    ("钱", 0.18),
    ("戴", 0.18),
    ("严", 0.18),
    ("莫", 0.17),
    ("孔", 0.17),
    ("欧阳", 0.05),
    ("诸葛", 0.01),
)
GIVEN_MALE = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国志文博海峰晨成康亮嘉豪子轩睿泽浩然宏"
)
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀燕玲桂丹萍红琳雪梅莉婷慧颖倩洁琴云蓉月晶妍欣怡梦佳雨涵思悦可馨诗嘉紫瑶"
# Characters a clerk may type for another (same or similar pinyin): used to inject name typos.
NAME_TYPOS: dict[str, str] = dict(
    zip(
        "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国志文博海峰晨成康亮嘉豪子轩睿泽然宏"
        "芳娜敏静丽艳娟霞秀燕玲桂丹萍红琳雪梅莉婷慧颖倩洁琴云蓉月晶妍欣怡梦佳雨涵思悦可馨诗紫瑶",
        "玮墙蕾君永洁滔铭潮钢萍晖朋桦菲新博彬雨皓恺建骏凡率煦凝隆琳焕洋健帼智雯搏湖锋辰诚慷靓佳浩紫宣瑞择燃弘"
        "方那民婧莉燕鹃侠绣艳琳贵单苹虹林雪玫丽亭惠莹茜杰芹芸容悦静燕心宜孟嘉语晗丝月珂欣施姿遥",
        strict=True,
    )
)
ROADS = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "文化路",
    "新华路",
    "环城路",
    "和平路",
    "东风路",
    "胜利路",
    "青年路",
    "学院路",
    "府前路",
    "江滨路",
    "工业路",
    "城东路",
    "城西路",
    "体育场路",
    "延安路",
    "湖滨路",
)
PHONE_PREFIXES = (
    130,
    131,
    132,
    133,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    166,
    173,
    177,
    180,
    181,
    182,
    183,
    185,
    186,
    187,
    188,
    189,
    191,
    198,
    199,
)
# Occupations of the case report card (人群分类), with rough shares.
OCCUPATIONS: tuple[str, ...] = (
    "幼托儿童",
    "散居儿童",
    "学生",
    "农民",
    "工人",
    "家务及待业",
    "离退休人员",
    "商业服务",
    "干部职员",
    "医务人员",
    "其他",
)
