"""Chinese demo content for Sisters Market that reads like real shops of Ningbo's districts,
generated locally (no downloads).

Each demo shop is a person with a trade that fits her district (seafood on the coast of
Xiangshan, Ninghai and Beilun; embroidery and homespun cloth in Cixi; tea, bamboo and stays
in the Siming mountains of Yuyao, Fenghua and Haishu) and, where it fits, a collective brand
whose trade matches hers (BRAND_CATEGORIES). Titles are an adjective and an item that share
no word (no 手工手工年糕), each title is used once per shop, every product has an English
title and description too, and every product of the demo seed gets its own picture, drawn
with Pillow from its category and title.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from market.areas.services import NINGBO_DISTRICTS

BRANDS = [
    {"slug": "jixiang-fanghua", "name": "吉象·芳华", "name_en": "Jixiang Fanghua", "district": "象山县",
     "story": "吉象·芳华是象山县妇联发起的区域公共品牌，汇聚了渔村与山村的巧手姐妹：竹根雕、渔民画、海鲜干货、手工刺绣，每一件都带着大海的气息。"},
    {"slug": "haiwei-mama", "name": "海味·妈妈的味道", "name_en": "Taste of the Sea, Mum's Recipe", "district": "宁海县",
     "story": "海边的妈妈们用祖传的手艺晾晒鱼鲞、腌制海鲜，把家的味道装进礼盒，让城里的孩子也能尝到。"},
    {"slug": "cixi-xiuniang", "name": "慈溪绣娘", "name_en": "Cixi Embroiderers", "district": "慈溪市",
     "story": "慈溪绣娘合作社由五十多位农村妇女组成，传承越绣技艺，一针一线绣出江南的四季。"},
    {"slug": "siming-shanju", "name": "四明山居", "name_en": "Siming Mountain Homes", "district": "余姚市",
     "story": "四明山里的女主人们经营着一间间特色民宿，也种茶、做笋干、编竹器，欢迎你来山里住几天。"},
]
# What each brand sells: a shop joins a brand only if all her trades are among its own.
BRAND_CATEGORIES = {
    "jixiang-fanghua": {"seafood", "ceramics", "embroidery", "weaving"},
    "haiwei-mama": {"seafood", "snacks"},
    "cixi-xiuniang": {"embroidery", "textiles"},
    "siming-shanju": {"homestay", "tea", "produce", "snacks", "weaving"},
}


@dataclass(frozen=True)
class Shop:
    name: str
    shop: str
    district: str
    kind: str
    categories: tuple[str, ...]
    brand: str | None
    story: str


SHOPS = [
    Shop("王秀英", "秀英绣坊", "慈溪市", "craftswoman", ("embroidery",), "cixi-xiuniang",
         "从小跟着外婆学越绣，后来回到村里带着十几位姐妹一起绣，让老手艺有了新市场。"),
    Shop("周海燕", "海燕渔家干货", "象山县", "food_producer", ("seafood",), "jixiang-fanghua",
         "丈夫出海打鱼，我在石浦的家里晒鱼鲞、剥虾干，现在通过姐妹集市卖到了全国。"),
    Shop("张美华", "美华山居", "余姚市", "homestay_host", ("homestay", "tea"), "siming-shanju",
         "在城里打工十年，回到四明山把家里的老房子改成民宿，也帮村里的阿姨们卖茶叶和笋干。"),
    Shop("徐彩霞", "彩霞海味厨房", "宁海县", "food_producer", ("seafood", "snacks"), "haiwei-mama",
         "一家三代住在海边，妈妈教我做海鲜酱和麦饼，如今我带着渔村的姐妹们一起做。"),
    Shop("赵玉兰", "玉兰茶园", "奉化区", "food_producer", ("tea",), "siming-shanju",
         "家里的茶园在海拔六百米的山坡上，每年清明前后全家上山采茶，我负责手工炒制。"),
    Shop("胡月娥", "月娥竹编铺", "海曙区", "craftswoman", ("weaving",), "siming-shanju",
         "章水镇的竹子又韧又直，我从十六岁开始编竹篮，现在教村里的年轻媳妇们一起编。"),
    Shop("郭凤英", "凤英草编工作室", "鄞州区", "craftswoman", ("weaving", "textiles"), None,
         "参加了妇联的电商培训，学会了拍照和直播，草编的帽子和收纳筐每天都有订单。"),
    Shop("林素珍", "素珍扎染工作室", "江北区", "craftswoman", ("textiles",), None,
         "用板蓝根和茜草染布，每一块扎染都是独一无二的，慈城的老手艺在我手里接着传下去。"),
    Shop("高雪梅", "雪梅渔家厨房", "北仑区", "food_producer", ("seafood",), "haiwei-mama",
         "春晓的渔港边长大，丈夫出海，我在家腌制黄鱼鲞、晒紫菜，味道是小时候的味道。"),
    Shop("宋艳萍", "艳萍蜂场", "镇海区", "food_producer", ("produce",), None,
         "在九龙湖边养了两百箱蜜蜂，跟着花期走，蜂蜜从不兑水，欢迎大家来蜂场看看。"),
    Shop("吴春梅", "春梅竹根雕", "象山县", "craftswoman", ("ceramics",), "jixiang-fanghua",
         "跟着父亲学竹根雕，后来又学了渔民画，把大海和渔村画进每一件作品里。"),
    Shop("孙巧云", "巧云麦饼铺", "宁海县", "food_producer", ("snacks",), "haiwei-mama",
         "宁海麦饼是我们家的招牌，面要揉足半个钟头，馅料都是自家地里种的。"),
    Shop("李桂芳", "桂芳土布坊", "慈溪市", "craftswoman", ("textiles", "embroidery"), "cixi-xiuniang",
         "家里还留着奶奶的老织布机，我把土布做成围裙、桌布和包，再请绣娘姐妹们绣上花。"),
    Shop("陈丽娟", "丽娟杨梅园", "余姚市", "food_producer", ("produce", "snacks"), "siming-shanju",
         "丈夫种杨梅，我做杨梅干和笋干，山里的东西不打药，吃得放心。"),
    Shop("杨小红", "小红桃园", "奉化区", "food_producer", ("produce",), None,
         "奉化水蜜桃熟的时候，我每天凌晨四点下地采摘，当天打包发货。"),
    Shop("朱翠平", "翠平年糕作坊", "海曙区", "food_producer", ("snacks",), None,
         "用晚粳米手工打年糕，柴火蒸、石臼捣，一到冬天作坊里就热气腾腾。"),
    Shop("何晓燕", "晓燕陶艺", "鄞州区", "craftswoman", ("ceramics",), None,
         "美院毕业后回到家乡开了陶艺小工作室，也教村里的孩子们捏泥巴。"),
    Shop("罗金花", "金花糕点铺", "江北区", "food_producer", ("snacks",), None,
         "跟着婆婆学做宁波传统糕点，桂花糕、酒酿都是老底子的做法。"),
    Shop("梁慧琴", "慧琴刺绣小铺", "北仑区", "craftswoman", ("embroidery",), None,
         "白天照顾老人孩子，晚上在灯下绣香囊和手帕，一针一线都是心意。"),
    Shop("郑丽萍", "丽萍农家小铺", "镇海区", "food_producer", ("produce", "snacks"), None,
         "家里养着土鸡、种着番薯，我把农家的好东西直接寄给城里的客人。"),
]
ARTISAN_NAMES = [s.name for s in SHOPS]

# Demo shops go round the districts the area tree is seeded with (market.areas), coast first.
DISTRICT_LIST = [name for name, _ in reversed(NINGBO_DISTRICTS)]

# category -> (items, adjectives, Chinese description); no adjective shares a word with an
# item, so "adjective + item" never doubles a word. bench/search.py builds titles from these.
PRODUCT_SPECS = {
    "embroidery": (["刺绣手帕", "刺绣团扇", "刺绣抱枕", "越绣屏风摆件", "刺绣香囊", "刺绣围巾"],
                   ["江南", "荷花", "牡丹", "喜鹊", "四季", "兰草"],
                   "{shop}的绣娘手工刺绣，{adj}图案，针脚细密，丝线柔和，适合送礼与收藏。"),
    "weaving": (["竹编果篮", "草编收纳筐", "竹编茶盘", "竹编花篮", "草编遮阳帽"],
                ["传统", "细篾", "小号", "大号", "复古"],
                "选用{district}本地的毛竹和稻草，{adj}样式，手工编织，结实耐用，每一件都独一无二。"),
    "textiles": (["土布围裙", "扎染方巾", "棉麻桌布", "蓝印花布包"],
                 ["靛蓝", "素雅", "田园", "格纹"],
                 "{adj}风格，纯棉手工纺织，植物染色，透气舒适。由{shop}在{district}手工制作。"),
    "ceramics": (["竹根雕摆件", "木雕茶则", "手捏陶杯", "渔民画瓷盘"],
                 ["海洋", "山水", "童趣", "古朴"],
                 "{adj}主题，手工雕刻彩绘，每件略有不同，是手作的温度。"),
    "seafood": (["海鲜礼盒", "鳗鲞", "虾干", "紫菜", "海鲜酱", "黄鱼鲞"],
                ["东海", "野生", "渔家", "特级", "淡晒"],
                "{adj}海鲜，{district}渔家妈妈手工晾晒，无添加，鲜香可口。"),
    "tea": (["云雾茶", "曲毫", "红茶", "白茶", "绿茶"],
            ["明前", "高山", "手炒", "有机"],
            "{adj}茶叶，{shop}的茶园主人亲手采摘炒制，香气清雅，回甘持久。"),
    "snacks": (["麦饼", "年糕", "笋干", "桂花糕", "酒酿", "番薯干"],
               ["古法", "外婆", "农家", "手工"],
               "{adj}制作，用料实在，是{district}家乡的味道。"),
    "produce": (["杨梅", "蜜梨", "水蜜桃", "土鸡蛋", "百花蜂蜜"],
                ["当季", "精选", "生态", "山地"],
                "{adj}农产品，产自宁波{district}，产地直发，新鲜看得见。"),
    "homestay": (["山居民宿一晚", "茶园采茶一日游", "手作体验课", "农家小院两晚"],
                 ["周末", "亲子", "双人", "家庭"],
                 "{adj}套餐，含早餐与手作体验，{shop}的女主人亲自接待。"),
}
ITEM_EN = {
    "刺绣手帕": "embroidered handkerchief", "刺绣团扇": "embroidered round fan", "刺绣抱枕": "embroidered cushion",
    "越绣屏风摆件": "Yue embroidery table screen", "刺绣香囊": "embroidered sachet", "刺绣围巾": "embroidered scarf",
    "竹编果篮": "bamboo fruit basket", "草编收纳筐": "woven straw storage basket", "竹编茶盘": "bamboo tea tray",
    "竹编花篮": "bamboo flower basket", "草编遮阳帽": "woven straw sun hat", "土布围裙": "homespun apron",
    "扎染方巾": "tie-dyed square scarf", "棉麻桌布": "cotton-linen tablecloth", "蓝印花布包": "blue-print cloth bag",
    "竹根雕摆件": "bamboo root carving", "木雕茶则": "carved wooden tea scoop", "手捏陶杯": "hand-pinched clay cup",
    "渔民画瓷盘": "fisherman's painting plate", "海鲜礼盒": "seafood gift box", "鳗鲞": "dried eel",
    "虾干": "dried shrimp", "紫菜": "laver seaweed", "海鲜酱": "seafood sauce", "黄鱼鲞": "dried yellow croaker",
    "云雾茶": "cloud-mist tea", "曲毫": "Qu Hao green tea", "红茶": "black tea", "白茶": "white tea",
    "绿茶": "green tea", "麦饼": "Ninghai wheat pie", "年糕": "rice cakes", "笋干": "dried bamboo shoots",
    "桂花糕": "osmanthus cake", "酒酿": "sweet rice wine", "番薯干": "dried sweet potato", "杨梅": "bayberries",
    "蜜梨": "honey pears", "水蜜桃": "juicy peaches", "土鸡蛋": "free-range eggs", "百花蜂蜜": "wildflower honey",
    "山居民宿一晚": "one night in a mountain homestay", "茶园采茶一日游": "tea-picking day in the garden",
    "手作体验课": "handicraft class", "农家小院两晚": "two nights in a farm courtyard",
}
ADJ_EN = {
    "江南": "Jiangnan", "荷花": "lotus", "牡丹": "peony", "喜鹊": "magpie", "四季": "four-seasons", "兰草": "orchid",
    "传统": "traditional", "细篾": "fine-strip", "小号": "small", "大号": "large", "复古": "vintage",
    "靛蓝": "indigo", "素雅": "plain", "田园": "country", "格纹": "checked", "海洋": "ocean", "山水": "landscape",
    "童趣": "playful", "古朴": "rustic", "东海": "East China Sea", "野生": "wild", "渔家": "fisher family's",
    "特级": "premium", "淡晒": "lightly salted sun-dried", "明前": "pre-Qingming", "高山": "high mountain",
    "手炒": "hand-roasted", "有机": "organic", "古法": "old-style", "外婆": "grandma's", "农家": "farmhouse",
    "手工": "handmade", "当季": "in-season", "精选": "hand-picked", "生态": "eco-grown", "山地": "hillside",
    "周末": "weekend", "亲子": "family", "双人": "for two", "家庭": "whole-family",
}
DESCRIPTION_EN = {
    "embroidery": "Hand embroidered by the women of {shop}: fine stitches, soft silk thread. A gift to keep.",
    "weaving": "Woven by hand from local bamboo and straw in {district_en}: sturdy, and no two alike.",
    "textiles": "Handwoven cotton dyed with plants, made by {shop} in {district_en}.",
    "ceramics": "Carved and painted by hand; each piece differs a little.",
    "seafood": "Sun-dried by fishing families in {district_en}, with nothing added.",
    "tea": "Picked and roasted by hand in the tea garden of {shop}: a clear scent, a long sweet finish.",
    "snacks": "Made the traditional way with honest ingredients: a taste of home in {district_en}.",
    "produce": "Grown in {district_en}, Ningbo, and sent straight from the farm.",
    "homestay": "Breakfast and a handicraft hour included; the host of {shop} welcomes you herself.",
}
DISTRICT_EN = dict(NINGBO_DISTRICTS)

SHOP_KIND_BY_CATEGORY = {"seafood": "food_producer", "homestay": "homestay_host"}


def titles_for(shop_categories: tuple[str, ...], rnd: random.Random) -> Iterator[tuple[str, str, str, str]]:
    """(category, adjective, item, title) for one shop, never the same title twice: every
    adjective and item of her trades in a shuffled order, then numbered styles of them."""
    combos = [(c, adj, item) for c in shop_categories for item in PRODUCT_SPECS[c][0] for adj in PRODUCT_SPECS[c][1]]
    rnd.shuffle(combos)
    for c, adj, item in combos:
        yield c, adj, item, f"{adj}{item}"
    for k in itertools.count(2):
        for c, adj, item in combos:
            yield c, adj, item, f"{adj}{item}·{k}号款"


def product_texts(shop: Shop, category: str, adj: str, item: str, title: str) -> dict[str, str]:
    """Title and description in Chinese and English for one product of `shop`."""
    _, _, template = PRODUCT_SPECS[category]
    suffix = title[len(adj) + len(item):]
    style = f" (style {suffix.strip('·号款')})" if suffix else ""
    district_en = DISTRICT_EN.get(shop.district, shop.district)
    title_en = f"{ADJ_EN[adj]} {ITEM_EN[item]}{style}"
    return {
        "title": title,
        "description": template.format(adj=adj, shop=shop.shop, district=shop.district),
        "title_en": title_en[:1].upper() + title_en[1:],
        "description_en": DESCRIPTION_EN[category].format(shop=shop.shop, district_en=district_en),
    }


def brand_fits(brand_slug: str | None, categories) -> bool:
    return brand_slug is None or set(categories) <= BRAND_CATEGORIES.get(brand_slug, set())


# ---- pictures ---------------------------------------------------------------------------

PALETTE = [(214, 51, 108), (240, 128, 128), (46, 139, 87), (70, 130, 180), (218, 165, 32),
           (147, 112, 219), (205, 92, 92), (60, 179, 113), (100, 149, 237), (210, 105, 30)]
# A background and an ink per category, so a picture says what kind of thing it is.
CATEGORY_COLOURS = {
    "embroidery": ((252, 228, 236), (214, 51, 108)), "weaving": ((245, 232, 200), (150, 105, 40)),
    "textiles": ((224, 234, 250), (40, 70, 140)), "ceramics": ((240, 230, 220), (160, 82, 45)),
    "seafood": ((220, 240, 250), (30, 110, 170)), "tea": ((226, 244, 226), (46, 125, 50)),
    "snacks": ((255, 243, 224), (230, 126, 34)), "produce": ((255, 235, 238), (198, 40, 40)),
    "homestay": ((232, 245, 233), (85, 107, 47)),
}


def make_image_bytes(seed: int, size: int = 640) -> bytes:
    """A distinct pattern image made with Pillow (circles on a tint): no downloads."""
    from PIL import Image, ImageDraw

    rnd = random.Random(seed)
    base = PALETTE[seed % len(PALETTE)]
    img = Image.new("RGB", (size, size), tuple(min(255, c + 90) for c in base))
    draw = ImageDraw.Draw(img)
    for _ in range(14):
        r = rnd.randint(size // 12, size // 3)
        x, y = rnd.randint(0, size), rnd.randint(0, size)
        colour = PALETTE[rnd.randrange(len(PALETTE))]
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=(255, 255, 255), width=4)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _shade(colour: tuple[int, int, int], rnd: random.Random, spread: int = 40) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rnd.randint(-spread, spread))) for c in colour)


def make_product_image(category: str, title: str, seed: int = 0, size: int = 640) -> bytes:
    """A picture for one product, drawn from its category (colours and motif: waves for
    seafood, leaves for tea, a weave for baskets, flowers for embroidery...) and its title
    (which places, turns and shades the motif), so no two products look alike."""
    from PIL import Image, ImageDraw

    digest = hashlib.sha256(f"{category}|{title}|{seed}".encode()).digest()
    rnd = random.Random(int.from_bytes(digest[:8], "big"))
    background, ink = CATEGORY_COLOURS.get(category, ((240, 240, 240), (120, 120, 120)))
    img = Image.new("RGB", (size, size), _shade(background, rnd, 12))
    draw = ImageDraw.Draw(img)
    s = size
    if category == "seafood":
        for k in range(9):
            y0 = s * (k + 1) / 10 + rnd.randint(-8, 8)
            amp, period = rnd.randint(8, 22), rnd.uniform(60, 140)
            pts = [(x, y0 + amp * math.sin(x / period * 2 * math.pi + k)) for x in range(0, s + 8, 8)]
            draw.line(pts, fill=_shade(ink, rnd), width=rnd.randint(4, 9))
        fx, fy = rnd.randint(s // 5, s * 3 // 5), rnd.randint(s // 4, s * 3 // 5)
        draw.ellipse((fx, fy, fx + s // 3, fy + s // 8), fill=_shade(ink, rnd, 60))
        draw.polygon([(fx, fy + s // 16), (fx - s // 10, fy), (fx - s // 10, fy + s // 8)], fill=_shade(ink, rnd, 60))
    elif category == "tea":
        for _ in range(rnd.randint(7, 12)):
            cx, cy, r = rnd.randint(0, s), rnd.randint(0, s), rnd.randint(s // 14, s // 6)
            angle = rnd.uniform(0, math.pi)
            dx, dy = r * math.cos(angle), r * math.sin(angle)
            draw.ellipse((cx - r, cy - r // 2, cx + r, cy + r // 2), fill=_shade(ink, rnd, 50))
            draw.line((cx - dx, cy - dy, cx + dx, cy + dy), fill=_shade(background, rnd, 10), width=3)
    elif category in ("weaving", "textiles"):
        step = rnd.randint(s // 18, s // 9)
        for i in range(0, s, step):
            colour = _shade(ink, rnd, 45)
            draw.rectangle((i, 0, i + step // 2, s), fill=colour)
            if category == "weaving":
                for j in range(0 if (i // step) % 2 else step, s, 2 * step):
                    draw.rectangle((i, j, i + step // 2, j + step // 2), fill=_shade(background, rnd, 20))
            else:
                draw.rectangle((0, i, s, i + step // 3), fill=_shade(ink, rnd, 30))
    elif category == "embroidery":
        for _ in range(rnd.randint(4, 8)):
            cx, cy, r = rnd.randint(s // 8, s * 7 // 8), rnd.randint(s // 8, s * 7 // 8), rnd.randint(s // 14, s // 7)
            petal = _shade(ink, rnd, 60)
            for p in range(rnd.randint(5, 8)):
                a = p / 6 * 2 * math.pi + rnd.random()
                px, py = cx + r * math.cos(a), cy + r * math.sin(a)
                draw.ellipse((px - r * .6, py - r * .6, px + r * .6, py + r * .6), fill=petal)
            draw.ellipse((cx - r * .4, cy - r * .4, cx + r * .4, cy + r * .4), fill=(250, 210, 60))
    elif category == "homestay":
        for k in range(3):
            base = s * (0.55 + k * 0.12)
            peak = rnd.randint(s // 5, s * 4 // 5)
            draw.polygon([(0, s), (0, base), (peak, base - rnd.randint(s // 6, s // 3)), (s, base), (s, s)],
                         fill=_shade(ink, rnd, 40))
        hx = rnd.randint(s // 5, s * 3 // 5)
        draw.rectangle((hx, s * 0.62, hx + s // 5, s * 0.8), fill=(250, 250, 245))
        draw.polygon([(hx - 12, s * 0.62), (hx + s // 10, s * 0.5), (hx + s // 5 + 12, s * 0.62)], fill=(120, 60, 40))
    else:  # ceramics, snacks, produce: round things on a table
        for _ in range(rnd.randint(5, 10)):
            cx, cy, r = rnd.randint(0, s), rnd.randint(s // 4, s), rnd.randint(s // 12, s // 5)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_shade(ink, rnd, 60), outline=(255, 255, 255), width=3)
    # A band with a stripe per title character: the title itself marks the picture.
    band = s - s // 10
    draw.rectangle((0, band, s, s), fill=_shade(ink, rnd, 20))
    for i, ch in enumerate(title[:24]):
        x = s // 20 + i * (s // 26)
        h = (ord(ch) % 40) + 10
        draw.rectangle((x, band + (s // 10 - h) // 2, x + s // 40, band + (s // 10 + h) // 2), fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=82)
    return buf.getvalue()


# ---- a handful of reviews ---------------------------------------------------------------

REVIEWS = [
    (5, "包装很仔细，东西比图片还好看，已经推荐给同事了。", "谢谢您的喜欢！欢迎常来看看。"),
    (5, "味道正宗，和小时候外婆做的一样。", None),
    (4, "做工精细，就是快递慢了一天，总体满意。", "抱歉让您久等了，下次我们会早点发货。"),
    (5, "第二次回购了，送朋友也很有面子。", None),
    (3, "东西不错，颜色比图片稍微深一点。", None),
    (5, "女主人很热情，山里空气太好了，孩子玩得很开心。", "欢迎下次再来山里住！"),
]
