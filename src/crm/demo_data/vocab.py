"""Vocabularies of the extract generator: Vietnamese names and places, and the banks' product catalogues.

Weighted vocabularies are lists in which a value appears as often as its weight, so that a pick is one
``list[int(rng.random() * len(list))]`` in the hot loop.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple


def weighted(pairs: list[tuple[str, int]]) -> tuple[str, ...]:
    """Expand ``(value, weight)`` pairs into a tuple where each value appears ``weight`` times."""
    return tuple(value for value, weight in pairs for _ in range(weight))


def fold(text: str) -> str:
    """ASCII-fold Vietnamese: drop the diacritics (đ becomes d), lower case, no spaces or hyphens."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return "".join(c for c in plain.lower() if c.isalnum())


# Family names, weighted by their approximate share of the population.
FAMILY_NAMES = weighted(
    [
        ("Nguyễn", 380),
        ("Trần", 110),
        ("Lê", 95),
        ("Phạm", 70),
        ("Hoàng", 31),
        ("Huỳnh", 20),
        ("Phan", 45),
        ("Vũ", 20),
        ("Võ", 19),
        ("Đặng", 21),
        ("Bùi", 20),
        ("Đỗ", 14),
        ("Hồ", 13),
        ("Ngô", 13),
        ("Dương", 10),
        ("Lý", 5),
        ("Trương", 8),
        ("Đinh", 7),
        ("Lâm", 5),
        ("Mai", 5),
        ("Đoàn", 5),
        ("Lương", 4),
        ("Tô", 3),
        ("Cao", 4),
        ("Hà", 4),
        ("Tạ", 3),
        ("Châu", 2),
        ("Quách", 2),
        ("Thái", 2),
        ("Vương", 2),
        ("Kiều", 1),
        ("La", 1),
        ("Triệu", 2),
        ("Lưu", 3),
    ]
)
MIDDLE_MALE = weighted(
    [
        ("Văn", 40),
        ("Hữu", 10),
        ("Đức", 10),
        ("Minh", 10),
        ("Quốc", 7),
        ("Thanh", 6),
        ("Công", 6),
        ("Xuân", 4),
        ("Đình", 6),
        ("Quang", 6),
        ("Ngọc", 4),
        ("Tuấn", 3),
        ("Trọng", 4),
        ("Hoàng", 4),
        ("Gia", 4),
        ("Bảo", 3),
        ("Anh", 3),
        ("Thế", 3),
        ("Tiến", 2),
    ]
)
MIDDLE_FEMALE = weighted(
    [
        ("Thị", 45),
        ("Ngọc", 10),
        ("Thu", 7),
        ("Thanh", 6),
        ("Minh", 5),
        ("Kim", 5),
        ("Mỹ", 4),
        ("Phương", 4),
        ("Bảo", 4),
        ("Hồng", 4),
        ("Diệu", 2),
        ("Thùy", 4),
        ("Khánh", 3),
        ("Quỳnh", 3),
        ("Hoài", 2),
        ("Tuyết", 2),
        ("Lan", 2),
    ]
)
GIVEN_MALE: tuple[str, ...] = (
    "Anh",
    "Bảo",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Đông",
    "Đức",
    "Dương",
    "Hải",
    "Hiếu",
    "Hòa",
    "Hoàng",
    "Hùng",
    "Huy",
    "Hưng",
    "Hậu",
    "Khang",
    "Khánh",
    "Khoa",
    "Kiên",
    "Lâm",
    "Long",
    "Lộc",
    "Luân",
    "Minh",
    "Nam",
    "Nghĩa",
    "Nhân",
    "Phát",
    "Phong",
    "Phúc",
    "Phước",
    "Quân",
    "Quang",
    "Sơn",
    "Tài",
    "Tâm",
    "Thắng",
    "Thành",
    "Thiện",
    "Thịnh",
    "Tiến",
    "Tín",
    "Toàn",
    "Trí",
    "Trung",
    "Tuấn",
    "Tùng",
    "Việt",
    "Vinh",
    "Vũ",
    "Duy",
    "Hiển",
    "Khôi",
    "Lực",
    "Mạnh",
    "Nguyên",
    "Tấn",
    "Thái",
)
GIVEN_FEMALE: tuple[str, ...] = (
    "An",
    "Anh",
    "Châu",
    "Chi",
    "Diễm",
    "Dung",
    "Duyên",
    "Giang",
    "Hà",
    "Hạnh",
    "Hằng",
    "Hiền",
    "Hoa",
    "Hồng",
    "Huệ",
    "Hương",
    "Lan",
    "Liên",
    "Linh",
    "Loan",
    "Mai",
    "My",
    "Nga",
    "Ngân",
    "Ngọc",
    "Nhi",
    "Nhung",
    "Oanh",
    "Phương",
    "Quyên",
    "Quỳnh",
    "Tâm",
    "Thảo",
    "Thơ",
    "Thủy",
    "Thư",
    "Tiên",
    "Trang",
    "Trinh",
    "Tuyết",
    "Uyên",
    "Vân",
    "Vy",
    "Xuân",
    "Yến",
    "Hậu",
    "Lệ",
    "Nguyệt",
    "Phượng",
    "Thắm",
)
GIVEN_ANY: tuple[str, ...] = GIVEN_MALE + GIVEN_FEMALE
FOLDED = {name: fold(name) for name in (*FAMILY_NAMES, *MIDDLE_MALE, *MIDDLE_FEMALE, *GIVEN_ANY)}


class Province(NamedTuple):
    name: str  # as written in the city column
    districts: tuple[str, ...]
    id_code: str  # the first three digits of a citizen id (CCCD) issued there
    tax_code: str  # the first two digits of a tax code registered there
    plates: tuple[str, ...]  # licence plate codes
    area_code: str  # landline area code, without the trunk 0
    weight: int


PROVINCES = (
    Province(
        "TP. Hồ Chí Minh",
        (
            "Quận 1",
            "Quận 3",
            "Quận 4",
            "Quận 5",
            "Quận 6",
            "Quận 7",
            "Quận 8",
            "Quận 10",
            "Quận 11",
            "Quận 12",
            "Quận Bình Thạnh",
            "Quận Gò Vấp",
            "Quận Phú Nhuận",
            "Quận Tân Bình",
            "Quận Tân Phú",
            "Quận Bình Tân",
            "TP. Thủ Đức",
            "Huyện Nhà Bè",
            "Huyện Hóc Môn",
            "Huyện Bình Chánh",
            "Huyện Củ Chi",
        ),
        "079",
        "03",
        ("50", "51", "59", "41"),
        "28",
        250,
    ),
    Province(
        "Hà Nội",
        (
            "Quận Ba Đình",
            "Quận Hoàn Kiếm",
            "Quận Đống Đa",
            "Quận Hai Bà Trưng",
            "Quận Cầu Giấy",
            "Quận Thanh Xuân",
            "Quận Hoàng Mai",
            "Quận Long Biên",
            "Quận Tây Hồ",
            "Quận Nam Từ Liêm",
            "Quận Bắc Từ Liêm",
            "Quận Hà Đông",
            "Huyện Gia Lâm",
            "Huyện Đông Anh",
            "Huyện Thanh Trì",
            "Thị xã Sơn Tây",
        ),
        "001",
        "01",
        ("29", "30", "31", "33", "40"),
        "24",
        220,
    ),
    Province(
        "Đà Nẵng",
        (
            "Quận Hải Châu",
            "Quận Thanh Khê",
            "Quận Sơn Trà",
            "Quận Ngũ Hành Sơn",
            "Quận Liên Chiểu",
            "Quận Cẩm Lệ",
            "Huyện Hòa Vang",
        ),
        "048",
        "04",
        ("43",),
        "236",
        45,
    ),
    Province(
        "Hải Phòng",
        (
            "Quận Hồng Bàng",
            "Quận Ngô Quyền",
            "Quận Lê Chân",
            "Quận Hải An",
            "Quận Kiến An",
            "Quận Dương Kinh",
            "Quận Đồ Sơn",
            "Huyện Thủy Nguyên",
            "Huyện An Dương",
        ),
        "031",
        "02",
        ("15", "16"),
        "225",
        40,
    ),
    Province(
        "Cần Thơ",
        ("Quận Ninh Kiều", "Quận Bình Thủy", "Quận Cái Răng", "Quận Ô Môn", "Quận Thốt Nốt"),
        "092",
        "18",
        ("65",),
        "292",
        30,
    ),
    Province(
        "Bình Dương",
        ("TP. Thủ Dầu Một", "TP. Dĩ An", "TP. Thuận An", "Thị xã Bến Cát", "Thị xã Tân Uyên"),
        "074",
        "37",
        ("61",),
        "274",
        45,
    ),
    Province(
        "Đồng Nai",
        ("TP. Biên Hòa", "TP. Long Khánh", "Huyện Nhơn Trạch", "Huyện Long Thành", "Huyện Trảng Bom"),
        "075",
        "36",
        ("60", "39"),
        "251",
        40,
    ),
    Province(
        "Khánh Hòa",
        ("TP. Nha Trang", "TP. Cam Ranh", "Thị xã Ninh Hòa", "Huyện Diên Khánh"),
        "056",
        "42",
        ("79",),
        "258",
        20,
    ),
    Province(
        "Quảng Ninh",
        ("TP. Hạ Long", "TP. Cẩm Phả", "TP. Uông Bí", "TP. Móng Cái"),
        "022",
        "57",
        ("14",),
        "203",
        20,
    ),
    Province(
        "Thừa Thiên Huế",
        ("TP. Huế", "Thị xã Hương Thủy", "Thị xã Hương Trà", "Huyện Phú Vang"),
        "046",
        "33",
        ("75",),
        "234",
        15,
    ),
    Province(
        "Nghệ An",
        ("TP. Vinh", "Thị xã Cửa Lò", "Huyện Diễn Châu", "Huyện Nghi Lộc"),
        "040",
        "29",
        ("37",),
        "238",
        25,
    ),
    Province(
        "Thanh Hóa",
        ("TP. Thanh Hóa", "TP. Sầm Sơn", "Thị xã Bỉm Sơn", "Huyện Quảng Xương"),
        "038",
        "28",
        ("36",),
        "237",
        25,
    ),
    Province(
        "Bắc Ninh",
        ("TP. Bắc Ninh", "TP. Từ Sơn", "Huyện Yên Phong", "Huyện Tiên Du"),
        "027",
        "23",
        ("99",),
        "222",
        20,
    ),
    Province("Lâm Đồng", ("TP. Đà Lạt", "TP. Bảo Lộc", "Huyện Đức Trọng"), "068", "58", ("49",), "263", 12),
    Province(
        "Bà Rịa - Vũng Tàu", ("TP. Vũng Tàu", "TP. Bà Rịa", "Thị xã Phú Mỹ"), "077", "35", ("72",), "254", 18
    ),
    Province("Long An", ("TP. Tân An", "Huyện Bến Lức", "Huyện Đức Hòa"), "080", "11", ("62",), "272", 15),
    Province(
        "An Giang", ("TP. Long Xuyên", "TP. Châu Đốc", "Huyện Châu Thành"), "089", "16", ("67",), "296", 12
    ),
    Province("Kiên Giang", ("TP. Rạch Giá", "TP. Phú Quốc", "TP. Hà Tiên"), "091", "17", ("68",), "297", 10),
    Province(
        "Bình Định", ("TP. Quy Nhơn", "Thị xã An Nhơn", "Huyện Tuy Phước"), "052", "41", ("77",), "256", 12
    ),
    Province(
        "Thái Nguyên", ("TP. Thái Nguyên", "TP. Sông Công", "TP. Phổ Yên"), "019", "46", ("20",), "208", 10
    ),
    Province(
        "Nam Định", ("TP. Nam Định", "Huyện Hải Hậu", "Huyện Giao Thủy"), "036", "06", ("18",), "228", 10
    ),
    Province(
        "Hải Dương", ("TP. Hải Dương", "TP. Chí Linh", "Thị xã Kinh Môn"), "030", "08", ("34",), "220", 12
    ),
    Province("Quảng Nam", ("TP. Tam Kỳ", "TP. Hội An", "Thị xã Điện Bàn"), "049", "40", ("92",), "235", 12),
    Province("Tiền Giang", ("TP. Mỹ Tho", "Thị xã Gò Công", "Huyện Cái Bè"), "082", "12", ("63",), "273", 10),
    Province(
        "Vĩnh Phúc", ("TP. Vĩnh Yên", "TP. Phúc Yên", "Huyện Bình Xuyên"), "026", "25", ("88",), "211", 8
    ),
    Province("Hưng Yên", ("TP. Hưng Yên", "Thị xã Mỹ Hào", "Huyện Văn Lâm"), "033", "09", ("89",), "221", 8),
)
PROVINCE_PICK = tuple(i for i, p in enumerate(PROVINCES) for _ in range(p.weight))

STREETS: tuple[str, ...] = (
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Nguyễn Trãi",
    "Lê Duẩn",
    "Điện Biên Phủ",
    "Cách Mạng Tháng Tám",
    "Võ Văn Tần",
    "Nguyễn Văn Linh",
    "Phan Đình Phùng",
    "Hoàng Diệu",
    "Trần Phú",
    "Quang Trung",
    "Lê Văn Sỹ",
    "Nguyễn Thị Minh Khai",
    "Pasteur",
    "Bà Triệu",
    "Kim Mã",
    "Láng Hạ",
    "Xuân Thủy",
    "Nguyễn Chí Thanh",
    "Phạm Văn Đồng",
    "Võ Nguyên Giáp",
    "Lê Hồng Phong",
    "Nguyễn Du",
    "Hùng Vương",
    "Trường Chinh",
    "Lạc Long Quân",
    "Âu Cơ",
    "Nguyễn Văn Cừ",
    "Tôn Đức Thắng",
    "Phan Chu Trinh",
    "Lý Tự Trọng",
    "Nguyễn Đình Chiểu",
    "Hoàng Văn Thụ",
    "Bạch Đằng",
    "Ngô Quyền",
    "Đinh Tiên Hoàng",
)
HCMC_WARDS: tuple[str, ...] = (
    *(f"Phường {n}" for n in range(1, 16)),
    "Phường Bến Nghé",
    "Phường Đa Kao",
    "Phường Tân Định",
    "Phường An Phú",
    "Phường Tân Phong",
    "Phường Hiệp Phú",
    "Xã Phước Kiển",
)
WARDS: tuple[str, ...] = (
    "Phường Quang Trung",
    "Phường Trần Phú",
    "Phường Lê Lợi",
    "Phường Hòa Bình",
    "Phường Tân Tiến",
    "Phường Minh Khai",
    "Phường Phú Lợi",
    "Phường Bình Minh",
    "Phường Thắng Lợi",
    "Phường Nam Sơn",
    "Phường Trung Tâm",
    "Phường Đông Hòa",
    "Phường Tân Lập",
    "Phường Hưng Phú",
    "Xã An Phú",
    "Xã Tân Thành",
)

# Mobile network prefixes (without the trunk 0), weighted roughly by market share.
MOBILE_PREFIXES = weighted(
    [
        ("86", 4),
        ("96", 6),
        ("97", 6),
        ("98", 6),
        ("32", 3),
        ("33", 3),
        ("34", 3),
        ("35", 3),
        ("36", 3),
        ("37", 3),
        ("38", 3),
        ("39", 3),
        ("88", 3),
        ("91", 5),
        ("94", 4),
        ("81", 2),
        ("82", 2),
        ("83", 2),
        ("84", 2),
        ("85", 2),
        ("89", 3),
        ("90", 5),
        ("93", 4),
        ("70", 2),
        ("76", 1),
        ("77", 2),
        ("78", 1),
        ("79", 2),
        ("92", 1),
        ("56", 1),
        ("58", 1),
        ("99", 1),
        ("59", 1),
    ]
)
EMAIL_DOMAINS = weighted(
    [
        ("gmail.com", 62),
        ("yahoo.com", 12),
        ("outlook.com", 6),
        ("hotmail.com", 6),
        ("icloud.com", 5),
        ("yahoo.com.vn", 5),
        ("fpt.vn", 2),
        ("vnn.vn", 2),
    ]
)

COMPANY_FORMS = weighted(
    [
        ("Công ty TNHH", 45),
        ("Công ty TNHH MTV", 15),
        ("Công ty Cổ phần", 30),
        ("Doanh nghiệp tư nhân", 6),
        ("Hợp tác xã", 4),
    ]
)
COMPANY_TRADES: tuple[str, ...] = (
    "Thương mại Dịch vụ",
    "Xây dựng",
    "Đầu tư Phát triển",
    "Sản xuất và Thương mại",
    "Vận tải",
    "Xuất nhập khẩu",
    "Công nghệ",
    "Thực phẩm",
    "Dệt may",
    "Nông sản",
    "Thủy sản",
    "Bất động sản",
    "Cơ khí",
    "Điện tử",
    "Dược phẩm",
    "Nội thất",
    "Du lịch",
    "Logistics",
)
COMPANY_NAMES: tuple[str, ...] = (
    "Minh Phát",
    "An Khang",
    "Hòa Bình",
    "Thành Công",
    "Phú Thịnh",
    "Đại Việt",
    "Sao Mai",
    "Hưng Thịnh",
    "Tân Tiến",
    "Việt Hưng",
    "Bảo Long",
    "Hoàng Gia",
    "Phương Nam",
    "Trường An",
    "Nam Việt",
    "Kim Ngân",
    "Thiên Phúc",
    "Vạn Xuân",
    "Đông Á",
    "Hồng Hà",
    "Sông Hàn",
    "Mê Kông",
    "Ánh Dương",
    "Thịnh Vượng",
    "Tường Minh",
    "Lộc Phát",
    "Quang Minh",
    "Hải Đăng",
    "Phúc Lộc",
    "Trí Việt",
)
COMPANY_SLUGS = {name: fold(name) for name in COMPANY_NAMES}
ORG_EMAIL_BOXES: tuple[str, ...] = ("info", "ketoan", "lienhe", "admin", "kinhdoanh", "taichinh")

INDIVIDUAL_SEGMENTS = weighted([("RETAIL", 86), ("PRIORITY", 10), ("SME", 4)])
ORG_SEGMENTS = weighted([("SME", 82), ("CORPORATE", 18)])


class Product(NamedTuple):
    code: str
    min_million: int  # amount (or limit) range, in millions of VND
    max_million: int
    step_million: int
    terms: tuple[int, ...]  # months
    rate_min: int  # percent per year x 100 (so 650 is 6.50 %)
    rate_max: int


T24_PRODUCTS = {
    "MORTGAGE": Product("MORTGAGE", 500, 5000, 50, (120, 180, 240, 300), 650, 1050),
    "AUTO": Product("AUTO", 200, 1500, 10, (36, 48, 60, 72, 84), 750, 1100),
    "SECURED_PERSONAL": Product("SECURED_PERSONAL", 50, 1000, 10, (12, 24, 36, 48, 60), 850, 1300),
    "PERSONAL": Product("PERSONAL", 10, 300, 5, (12, 18, 24, 36, 48, 60), 1400, 2600),
    "EDUCATION": Product("EDUCATION", 20, 300, 5, (24, 36, 60, 84, 120), 600, 1000),
    "BUSINESS": Product("BUSINESS", 100, 5000, 50, (12, 24, 36, 60, 84, 120), 750, 1200),
    "REFINANCE": Product("REFINANCE", 100, 2000, 10, (36, 60, 120, 180, 240), 800, 1200),
    "CONSOLIDATION": Product("CONSOLIDATION", 30, 500, 10, (24, 36, 48, 60), 1100, 1800),
    "OTHER": Product("OTHER", 10, 200, 5, (12, 24, 36), 1200, 2000),
}
W4_PRODUCTS = {
    "CREDIT_CARD": Product("CREDIT_CARD", 10, 500, 10, (36, 48, 60), 2400, 3600),
    "OVERDRAFT": Product("OVERDRAFT", 20, 500, 10, (12,), 900, 1400),
    "LINE_OF_CREDIT": Product("LINE_OF_CREDIT", 50, 2000, 50, (12, 24, 36), 950, 1350),
}
CARD_LIMITS_MILLION = weighted(
    [
        ("10", 8),
        ("15", 6),
        ("20", 10),
        ("30", 12),
        ("50", 14),
        ("70", 8),
        ("100", 12),
        ("150", 6),
        ("200", 6),
        ("300", 4),
        ("500", 2),
    ]
)
T24_INDIVIDUAL_MIX = weighted(
    [
        ("MORTGAGE", 18),
        ("AUTO", 12),
        ("SECURED_PERSONAL", 10),
        ("PERSONAL", 34),
        ("EDUCATION", 5),
        ("BUSINESS", 7),
        ("REFINANCE", 5),
        ("CONSOLIDATION", 6),
        ("OTHER", 3),
    ]
)
T24_ORG_MIX = weighted([("BUSINESS", 75), ("MORTGAGE", 10), ("AUTO", 15)])
W4_MIX = weighted([("CREDIT_CARD", 85), ("OVERDRAFT", 8), ("LINE_OF_CREDIT", 7)])

PROPERTY_TYPES = weighted(
    [("APARTMENT", 35), ("TOWNHOUSE", 30), ("LAND", 20), ("VILLA", 5), ("SHOPHOUSE", 10)]
)
PROPERTY_WORDS = {
    "APARTMENT": ("Căn hộ chung cư", 45, 150),
    "TOWNHOUSE": ("Nhà phố", 40, 120),
    "LAND": ("Quyền sử dụng đất ở", 80, 500),
    "VILLA": ("Biệt thự", 200, 600),
    "SHOPHOUSE": ("Nhà phố thương mại", 80, 200),
}
TITLE_SERIES: tuple[str, ...] = (
    "AA",
    "BA",
    "BC",
    "BD",
    "BG",
    "BK",
    "BM",
    "BP",
    "BS",
    "BX",
    "CD",
    "CE",
    "CH",
    "CK",
    "CS",
    "CT",
    "DA",
    "DB",
)

# make, world manufacturer prefix of its VINs, models
VEHICLES = (
    ("Toyota", "RL4", ("Vios", "Corolla Cross", "Fortuner", "Innova", "Camry", "Veloz Cross")),
    ("Honda", "MRH", ("City", "CR-V", "Civic", "HR-V", "BR-V")),
    ("Hyundai", "KMH", ("Accent", "Tucson", "Santa Fe", "Creta", "Stargazer")),
    ("Kia", "KNA", ("Morning", "Seltos", "Sonet", "Carnival", "K3", "Sorento")),
    ("Mazda", "JM7", ("CX-5", "Mazda3", "CX-8", "CX-3")),
    ("Ford", "MNB", ("Ranger", "Everest", "Territory", "Transit")),
    ("Mitsubishi", "MMB", ("Xpander", "Attrage", "Outlander", "Triton")),
    ("VinFast", "RLL", ("VF 3", "VF 5", "VF 6", "VF 7", "VF 8", "Lux A2.0")),
    ("Suzuki", "MA3", ("XL7", "Ertiga", "Swift")),
)
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
PLATE_SERIES = "ABCDEFGHKLMNPSTUVXYZ"
EQUIPMENT: tuple[str, ...] = (
    "Máy xúc Komatsu PC200-8",
    "Dây chuyền đóng gói tự động",
    "Máy phay CNC Mazak",
    "Xe nâng Toyota 3 tấn",
    "Hệ thống kho lạnh 500 m3",
    "Máy in offset Heidelberg",
    "Dây chuyền may công nghiệp",
    "Máy ép nhựa Haitian",
    "Xe tải Hino 8 tấn",
    "Hệ thống điện mặt trời áp mái",
)

RESOLUTIONS = (
    ("PAID_OFF", "Tất toán đúng hạn", 60),
    ("EARLY_SETTLEMENT", "Tất toán trước hạn", 22),
    ("REFINANCED", "Tất toán bằng khoản vay tái cấp vốn", 8),
    ("SETTLED", "Khách hàng thanh toán theo thỏa thuận miễn giảm lãi phạt", 10),
)
RESOLUTION_PICK = tuple(i for i, r in enumerate(RESOLUTIONS) for _ in range(r[2]))

PAYMENT_CHANNELS = weighted(
    [
        ("BANK_TRANSFER", 35),
        ("MOBILE_APP", 25),
        ("CASH", 12),
        ("AUTO_DEBIT", 10),
        ("ONLINE", 12),
        ("CARD", 3),
        ("OTHER", 3),
    ]
)
FAILURE_REASONS = ("INSUFFICIENT_FUNDS", "ACCOUNT_BLOCKED", "TIMEOUT", "INVALID_ACCOUNT")
REVERSAL_REASONS = ("DUPLICATE_TRANSACTION", "CUSTOMER_DISPUTE", "POSTED_TO_WRONG_ACCOUNT")

PERSON_RELATIONSHIPS = weighted(
    [
        ("FAMILY_MEMBER", 30),
        ("EMERGENCY_CONTACT", 20),
        ("GUARANTOR", 15),
        ("FRIEND", 12),
        ("COLLEAGUE", 10),
        ("EMPLOYER", 5),
        ("OTHER", 3),
    ]
)
ORG_RELATIONSHIPS = weighted([("GUARANTOR", 40), ("BUSINESS_PARTNER", 35), ("EMPLOYEE", 20), ("OTHER", 5)])
CUSTOMER_RELATIONSHIPS = weighted(
    [("SPOUSE", 40), ("FAMILY_MEMBER", 30), ("GUARANTOR", 20), ("BUSINESS_PARTNER", 10)]
)
