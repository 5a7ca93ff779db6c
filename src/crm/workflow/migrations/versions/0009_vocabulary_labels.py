"""A label per language for every vocabulary entry: ``label`` stays the English one, ``label_vi``
is the Vietnamese one (NULL for an entry an administrator added without one; the screens then show
the English label).

The defaults of revision 0003 get their Vietnamese label here, as long as their English label is still
the seeded one (an administrator who renamed an entry gives it its Vietnamese label himself).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None
SCHEMA = "workflow"

DEFAULTS = {  # code: (the seeded English label, its Vietnamese label)
    "ADDRESS_NOT_FOUND": ("Address not found", "Không tìm thấy địa chỉ"),
    "AT_RISK": ("At risk", "Có rủi ro"),
    "BANKRUPT": ("Bankrupt", "Phá sản"),
    "CALL": ("Call", "Cuộc gọi"),
    "CALLBACK_REQUESTED": ("Callback requested", "Hẹn gọi lại"),
    "CALL_FOLLOWUP": ("Call followup", "Gọi theo dõi"),
    "CALL_INBOUND": ("Call inbound", "Cuộc gọi đến"),
    "CALL_OUTBOUND": ("Call outbound", "Gọi đi"),
    "CLOSED": ("Closed", "Đã đóng"),
    "COLLATERAL_ISSUE": ("Collateral issue", "Vấn đề tài sản bảo đảm"),
    "CONTACTED": ("Contacted", "Đã liên lạc được"),
    "COOPERATIVE": ("Cooperative", "Hợp tác"),
    "COVENANT_BREACH": ("Covenant breach", "Vi phạm cam kết"),
    "DAMAGED": ("Damaged", "Bị hư hỏng"),
    "DECEASED": ("Deceased", "Đã qua đời"),
    "DISCONNECTED": ("Disconnected", "Thuê bao không liên lạc được"),
    "DISPUTE": ("Dispute", "Khiếu nại"),
    "DISPUTED": ("Disputed", "Đang khiếu nại"),
    "EMAIL": ("Email", "Email"),
    "EMAIL_REMINDER": ("Email reminder", "Email nhắc nợ"),
    "EMAIL_STATEMENT": ("Email statement", "Email sao kê"),
    "ESCALATED": ("Escalated", "Đã chuyển cấp trên"),
    "FINANCIAL_REPORTING": ("Financial reporting", "Báo cáo tài chính"),
    "HARDSHIP_CLAIM": ("Hardship claim", "Trình bày khó khăn"),
    "HIGH": ("High", "Cao"),
    "IN_LIQUIDATION": ("In liquidation", "Đang thanh lý"),
    "IN_PROGRESS": ("In progress", "Đang xử lý"),
    "LEFT_MESSAGE": ("Left message", "Đã để lại lời nhắn"),
    "LEGAL_DEMAND": ("Legal demand", "Yêu cầu pháp lý"),
    "LEGAL_NOTICE": ("Legal notice", "Thông báo pháp lý"),
    "LEGAL_REPRESENTATION": ("Legal representation", "Có đại diện pháp lý"),
    "LEGAL_WARNING": ("Legal warning", "Cảnh báo pháp lý"),
    "LETTER": ("Letter", "Thư"),
    "LIQUIDATED": ("Liquidated", "Đã thanh lý"),
    "LOW": ("Low", "Thấp"),
    "MEDIUM": ("Medium", "Trung bình"),
    "MEETING": ("Meeting", "Gặp mặt"),
    "MISSING": ("Missing", "Bị thất lạc"),
    "MULTIPLE": ("Multiple", "Nhiều vi phạm"),
    "NEW": ("New", "Mới"),
    "NONE": ("None", "Không có"),
    "NOTE": ("Note", "Ghi chú nội bộ"),
    "NOT_APPLICABLE": ("Not applicable", "Không áp dụng"),
    "NOT_CONTACTED": ("Not contacted", "Chưa liên lạc được"),
    "NOT_HOME": ("Not home", "Không có nhà"),
    "NO_ANSWER": ("No answer", "Không trả lời"),
    "ON_HOLD": ("On hold", "Tạm dừng"),
    "OTHER": ("Other", "Khác"),
    "PARTIALLY_COOPERATIVE": ("Partially cooperative", "Hợp tác một phần"),
    "PARTIALLY_SECURED": ("Partially secured", "Bảo đảm một phần"),
    "PAYMENT_DELAY": ("Payment delay", "Chậm thanh toán"),
    "PAYMENT_MADE": ("Payment made", "Đã thanh toán"),
    "PENDING": ("Pending", "Đang chờ"),
    "PENDING_APPROVAL": ("Pending approval", "Chờ phê duyệt"),
    "PENDING_CUSTOMER": ("Pending customer", "Chờ khách hàng"),
    "PENDING_LEGAL": ("Pending legal", "Chờ pháp lý"),
    "PROMISE_TO_PAY": ("Promise to pay", "Hứa trả nợ"),
    "REFUSED": ("Refused", "Từ chối"),
    "REOPENED": ("Reopened", "Mở lại"),
    "REQUIRES_LEGAL": ("Requires legal", "Cần biện pháp pháp lý"),
    "REQUIRES_RESTRUCTURING": ("Requires restructuring", "Cần cơ cấu lại nợ"),
    "RESOLVED": ("Resolved", "Đã giải quyết"),
    "SECURED": ("Secured", "Được bảo đảm"),
    "SEIZED": ("Seized", "Đã thu giữ"),
    "SEVERE": ("Severe", "Nghiêm trọng"),
    "SMS": ("Sms", "Tin nhắn SMS"),
    "SMS_REMINDER": ("Sms reminder", "SMS nhắc nợ"),
    "UNCOOPERATIVE": ("Uncooperative", "Không hợp tác"),
    "UNDER_INVESTIGATION": ("Under investigation", "Đang điều tra"),
    "UNKNOWN": ("Unknown", "Chưa rõ"),
    "UNREACHABLE": ("Unreachable", "Không liên lạc được"),
    "VERY_LOW": ("Very low", "Rất thấp"),
    "VISIT": ("Visit", "Thăm trực tiếp"),
    "VISIT_SCHEDULED": ("Visit scheduled", "Thăm theo lịch hẹn"),
    "VISIT_UNSCHEDULED": ("Visit unscheduled", "Thăm không hẹn trước"),
    "WRITE_OFF_RECOMMENDED": ("Write off recommended", "Đề xuất xóa nợ"),
    "WRONG_CONTACT": ("Wrong contact", "Sai thông tin liên lạc"),
    "ZALO": ("Zalo", "Zalo"),
}


def upgrade() -> None:
    op.add_column("vocabulary_entry", sa.Column("label_vi", sa.Text), schema=SCHEMA)
    op.create_check_constraint(
        "ck_vocabulary_entry_label_vi_not_blank",
        "vocabulary_entry",
        "label_vi IS NULL OR btrim(label_vi) <> ''",
        schema=SCHEMA,
    )
    statement = sa.text(
        "UPDATE workflow.vocabulary_entry SET label_vi = :vi WHERE code = :code AND label = :en"
    )
    op.get_bind().execute(
        statement, [{"code": code, "en": en, "vi": vi} for code, (en, vi) in DEFAULTS.items()]
    )


def downgrade() -> None:
    op.drop_constraint("ck_vocabulary_entry_label_vi_not_blank", "vocabulary_entry", schema=SCHEMA)
    op.drop_column("vocabulary_entry", "label_vi", schema=SCHEMA)
