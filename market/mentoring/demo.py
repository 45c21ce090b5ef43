"""Demo content for the help desk: the mutual-aid team across Ningbo, and cases at every
stage, made through the same services people use (so suggestions carry real reasons)."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select, update

from market.extensions import db
from market.mentoring import services
from market.models import Case, User, UserRole

MENTORS = [
    # name, group, industries, skills, district, capacity, bio
    ("黄丽华", "entrepreneur", ["seafood", "ecommerce"], ["e_commerce", "live_streaming", "market_access"], "象山县", 4,
     "象山海鲜电商创业十二年，从一个直播间做到年销售三千万，愿意手把手教姐妹们开网店、做直播。"),
    ("王巧云", "craftswoman", ["embroidery", "textiles"], ["product_design", "branding", "quality"], "慈溪市", 3,
     "越绣非遗传承人，带领五十多位绣娘做文创产品，擅长把传统手艺变成年轻人喜欢的设计。"),
    ("陈晓雯", "scientist", ["agriculture", "tea"], ["technology", "quality", "supply_chain"], "余姚市", 3,
     "农业科学研究员，研究茶叶和杨梅种植二十年，可以帮助解决病虫害、标准化种植和质量认证问题。"),
    ("李美凤", "entrepreneur", ["homestay", "services"], ["management", "market_access", "branding"], "宁海县", 3,
     "经营三家精品民宿，熟悉乡村旅游的获客、定价和团队管理。"),
    ("赵敏", "entrepreneur", ["food", "agriculture"], ["financing", "legal", "management"], "鄞州区", 5,
     "银行信贷部门工作十五年后创业做农产品加工，熟悉创业担保贷款、合作社注册和食品生产许可。"),
    ("孙雅琴", "scientist", ["food", "seafood"], ["quality", "technology", "export"], "北仑区", 2,
     "食品工程博士，做过水产品出口企业的质量总监，懂出口检验检疫和冷链。"),
    ("周红梅", "craftswoman", ["weaving", "handicraft"], ["product_design", "live_streaming"], "奉化区", 3,
     "竹编手艺人，抖音上有十万粉丝，经常直播编竹篮。"),
    ("吴佳怡", "entrepreneur", ["ecommerce", "textiles"], ["e_commerce", "supply_chain", "export"], "海曙区", 4,
     "跨境电商公司创始人，熟悉亚马逊和速卖通，帮助过二十多家小微企业出海。"),
    ("郑慧", "entrepreneur", ["tea", "food"], ["branding", "market_access", "e_commerce"], "江北区", 3,
     "做茶叶品牌十年，擅长品牌定位、包装设计和进商超渠道。"),
    ("何静", "scientist", ["ceramics", "handicraft"], ["technology", "product_design"], "镇海区", 2,
     "材料工程师，业余做陶艺，可以帮手艺人改进工艺、降低次品率。"),
]

REQUESTS = [
    # business, industry, stage, district, difficulties, description, end state
    ("阿芳海鲜干货", "seafood", "startup", "象山县", ["e_commerce", "live_streaming"],
     "我在象山石浦做海鲜干货，想开网店直播带货，但不会拍视频，也不懂平台规则。", "open"),
    ("山里人家民宿", "homestay", "growth", "余姚市", ["market_access", "management"],
     "民宿开了两年，淡季入住率很低，不知道怎么吸引城里的客人。", "in_progress"),
    ("绣娘合作社", "embroidery", "growth", "慈溪市", ["product_design", "branding"],
     "合作社的刺绣产品款式老旧，年轻人不喜欢，想做文创设计。", "resolved"),
    ("杨梅种植园", "agriculture", "mature", "余姚市", ["technology", "quality"],
     "杨梅今年病虫害严重，果子品质下降，想学习绿色防控技术。", "matched"),
    ("小梅农产品加工坊", "food", "startup", "鄞州区", ["financing", "legal"],
     "想扩大笋干加工的规模，需要贷款，也不清楚食品生产许可证怎么办。", "open"),
]


def load_mentoring_demo(password_hash: str, rnd: random.Random) -> None:
    staff = db.session.scalar(select(User).join(UserRole).where(UserRole.role == "staff").limit(1))
    mentors = {}
    for i, (name, group, industries, skills, district, capacity, bio) in enumerate(MENTORS):
        email = "mentor@demo.sisters-market.cn" if i == 0 else f"mentor{i + 1}@demo.sisters-market.cn"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(name=name, email=email, password_hash=password_hash)
            user.roles = [UserRole(role="mentor")]
            db.session.add(user)
            db.session.flush()
        profile = services.save_mentor_profile(user, services.MentorData(
            name, group, industries, skills, bio, district, capacity, rnd.choice(["工作日晚上", "周末", "随时电话联系"])))
        services.review_mentor(staff, profile.id, "approved")
        mentors[name] = profile

    author = db.session.scalar(select(User).where(User.email == "entrepreneur@demo.sisters-market.cn"))
    for n, (business, industry, stage, district, difficulties, description, end) in enumerate(REQUESTS):
        user = author if n < 2 else _entrepreneur(password_hash, n)
        req = services.file_case(user, services.CaseData(business, industry, stage, district, difficulties,
                                                         description, True))
        if end == "open":
            continue
        intro = sorted(req.introductions, key=lambda i: i.rank)[0]
        services.ask_mentor(user, req.id, intro.id)
        services.accept(intro.mentor.user, intro.id)
        if end in ("in_progress", "resolved"):
            services.add_entry(intro.mentor.user, req.id, "visit", "上门走访，了解了经营情况，一起制定了三个月的改进计划。")
            services.add_entry(intro.mentor.user, req.id, "wechat", "微信群里分享了同行的成功案例和操作步骤。")
        if end == "resolved":
            services.resolve(user, req.id, 5, "新设计的文创团扇和书签在景区卖得很好，合作社的订单翻了一番。")
        # Spread the dates so the dashboard's medians mean something.
        days = 5 + 7 * n
        db.session.execute(update(Case).where(Case.id == req.id).values(
            created_at=services.utcnow() - timedelta(days=days + 3),
            matched_at=services.utcnow() - timedelta(days=days)))
        db.session.commit()
    _committee_member(password_hash, staff)


def _committee_member(password_hash: str, staff: User) -> None:
    """A committee member (执委) of Xiangshan and a case she filed for a woman without an account."""
    from market.accounts.services import grant_role

    user = User(name="执委王海霞", email="committee@demo.sisters-market.cn", password_hash=password_hash)
    user.roles = [UserRole(role="buyer")]
    db.session.add(user)
    db.session.commit()
    grant_role(staff, user, "committee")
    services.file_on_behalf(user, services.CaseData(
        "李阿婆鱼鲞", "seafood", "startup", "象山县", ["e_commerce", "market_access"],
        "自家晒的鱼鲞在村里卖不完，想卖到网上，但不会用智能手机，女儿在外地打工。", True, consent_contact=True),
        channel="committee", consent_method="paper",
        profile_data=services.ProfileData("李阿婆", "13805742266", business_kind="晒鱼鲞"))


def _entrepreneur(password_hash: str, n: int) -> User:
    user = User(name=f"创业者{n}", email=f"entrepreneur{n}@demo.sisters-market.cn", password_hash=password_hash)
    user.roles = [UserRole(role="entrepreneur")]
    db.session.add(user)
    db.session.commit()
    return user
