"""All models, imported here so that Alembic and create_all see every table."""
from market.models.accounts import ROLES, User, UserRole  # noqa: F401
from market.models.areas import AREA_LEVELS, Area, AreaResponsibility  # noqa: F401
from market.models.audit import AuditEntry  # noqa: F401
from market.models.catalog import Artisan, Brand, Product, ProductImage, ProductPage, brand_members  # noqa: F401
from market.models.insights import CaseBusinessResult, SalesDay, SalesShop, SalesWarning  # noqa: F401
from market.models.ledger import (  # noqa: F401
    CommissionComponent,
    CommissionRule,
    LedgerEntry,
    Payout,
    PayoutBatch,
    PayoutDetails,
)
from market.models.mentoring import (  # noqa: F401
    Case,
    CaseConsent,
    CaseDifficulty,
    CaseEntry,
    CaseInferredNeed,
    ClientProfile,
    Introduction,
    MatcherModel,
    MentorGroup,
    MentorProfile,
    NeedPhrase,
)
from market.models.notifications import Notice, NoticePreference  # noqa: F401
from market.models.orders import CartItem, Order, OrderLine, SavedAddress, SubOrder  # noqa: F401
from market.models.outreach import (  # noqa: F401
    EventFeedback,
    JobPost,
    OutreachContact,
    Question,
    Questionnaire,
    QuestionnaireResponse,
    Visit,
)
from market.models.payments import Payment, Refund, WebhookEvent  # noqa: F401
from market.models.returns import ACTIVE_REQUEST_STATES, RefundRequest  # noqa: F401
from market.models.reviews import Review  # noqa: F401
from market.models.search import SearchQueryDay, SynonymGroup  # noqa: F401
from market.models.supply import (  # noqa: F401
    Event,
    EventMeeting,
    MeetingFeedback,
    MeetingRequest,
    Organisation,
    OrganisationMember,
    Quote,
    Registration,
    SupplyPost,
)
