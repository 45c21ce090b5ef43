"""Realistic Chinese demo content for Sisters Market, generated locally (no downloads)."""
from __future__ import annotations

import random

from market.areas.services import NINGBO_DISTRICTS

BRANDS = [
    {"slug": "jixiang-fanghua", "name": "吉象·芳华", "name_en": "Jixiang Fanghua", "district": "象山县",
     "story": "吉象·芳华是象山县妇联发起的区域公共品牌，汇聚了渔村与山村的巧手姐妹：竹根雕、渔民画、海鲜干货、手工刺绣，每一件都带着大海的气息。"},
    {"slug": "haiwei-mama", "name": "海味·妈妈的味道", "name_en": "Taste of the Sea, Mum's Recipe", "district": "宁海县",
     "story": "海边的妈妈们用祖传的手艺晾晒鱼鲞、腌制海鲜，把家的味道装进礼盒，让城里的孩子也能尝到。"},
    {"slug": "cixi-xiuniang", "name": "慈溪绣娘", "name_en": "Cixi Embroiderers", "district": "慈溪市",
     "story": "慈溪绣娘合作社由五十多位农村妇女组成，传承越绣技艺，一针一线绣出江南的四季。"},
    {"slug": "siming-shanju", "name": "四明山居", "name_en": "Siming Mountain Homes", "district": "余姚市",
     "story": "四明山里的女主人们经营着一间间特色民宿，也种茶、做笋干、酿米酒，欢迎你来山里住几天。"},
]

ARTISAN_NAMES = [
    "王秀英", "李桂芳", "张美华", "陈丽娟", "杨小红", "赵玉兰", "周海燕", "吴春梅", "徐彩霞", "孙巧云",
    "胡月娥", "朱翠平", "郭凤英", "何晓燕", "林素珍", "罗金花", "高雪梅", "梁慧琴", "宋艳萍", "郑丽萍",
    "谢美玲", "韩秋菊", "唐佩芳", "冯雅琴", "邓巧玲", "曹春燕", "彭玉梅", "曾小芳", "萧丹凤", "田静怡",
]
SHOP_SUFFIX = ["的手作坊", "家的小铺", "巧手工作室", "的渔家厨房", "的山居", "绣坊", "的茶园", "的竹编铺"]
KIND_BY_SUFFIX = {"的渔家厨房": "food_producer", "的山居": "homestay_host", "的茶园": "food_producer"}

# Demo shops go round the districts the area tree is seeded with (market.areas), coast first.
DISTRICT_LIST = [name for name, _ in reversed(NINGBO_DISTRICTS)]

STORIES = [
    "从小跟着外婆学手艺，后来回到村里带着十几位姐妹一起做，让老手艺有了新市场。",
    "丈夫出海打鱼，我在家晒鱼干、做海鲜酱，现在通过姐妹集市卖到了全国。",
    "曾在城里打工十年，回乡后把家里的老房子改成民宿，也帮村里的阿姨们卖土特产。",
    "参加了妇联的电商培训，学会了直播，现在每天都有订单，日子越过越有盼头。",
]

# category -> (items, adjectives, description templates)
PRODUCT_SPECS = {
    "embroidery": (["刺绣手帕", "刺绣团扇", "手工刺绣抱枕", "越绣屏风摆件", "刺绣香囊", "刺绣围巾"],
                   ["江南", "荷花", "牡丹", "喜鹊", "四季", "渔家"],
                   "绣娘手工刺绣，{adj}图案，针脚细密，丝线柔和。适合送礼与收藏。Handmade silk embroidery."),
    "weaving": (["竹编果篮", "草编收纳筐", "竹编茶盘", "手工竹篮", "草编遮阳帽"],
                ["传统", "精编", "小号", "大号", "复古"],
                "选用本地毛竹，{adj}工艺手工编织，结实耐用，每一件都独一无二。Hand-woven bamboo."),
    "textiles": (["土布围裙", "扎染方巾", "手织棉麻桌布", "蓝印花布包"],
                 ["靛蓝", "素雅", "田园", "手染"],
                 "{adj}风格，纯棉手工纺织，植物染色，透气舒适。Hand-dyed cotton."),
    "ceramics": (["竹根雕摆件", "木雕茶则", "手捏陶杯", "渔民画瓷盘"],
                 ["海洋", "山水", "童趣", "古朴"],
                 "{adj}主题，手工雕刻彩绘，每件略有不同，是手作的温度。Hand-carved and painted."),
    "seafood": (["象山海鲜礼盒", "手工鱼鲞", "淡晒虾干", "紫菜", "海鲜酱", "黄鱼鲞"],
                ["东海", "野生", "渔家", "特级", "淡晒"],
                "{adj}海鲜，渔家妈妈手工晾晒，无添加，鲜香可口。Sun-dried seafood from the East China Sea."),
    "tea": (["四明山高山云雾茶", "奉化曲毫", "手工红茶", "野生白茶"],
            ["明前", "高山", "手炒", "有机"],
            "{adj}茶叶，茶园主人亲手采摘炒制，香气清雅，回甘持久。Hand-picked mountain tea."),
    "snacks": (["宁海麦饼", "手工年糕", "笋干", "桂花糕", "酒酿", "番薯干"],
               ["古法", "妈妈牌", "农家", "手工"],
               "{adj}制作，用料实在，是家乡的味道。Traditional homemade snack."),
    "produce": (["余姚杨梅", "慈溪蜜梨", "奉化水蜜桃", "农家土鸡蛋", "野生蜂蜜"],
                ["当季", "精选", "生态", "农家"],
                "{adj}农产品，产地直发，新鲜看得见。Fresh from the farm."),
    "homestay": (["山居民宿一晚", "渔村民宿体验", "茶园采茶一日游", "手作体验课"],
                 ["周末", "亲子", "双人", "家庭"],
                 "{adj}套餐，含早餐与手作体验，女主人亲自接待。Homestay with the host's home cooking."),
}
CATEGORY_BY_SUFFIX = {
    "的手作坊": ["ceramics", "weaving", "textiles"], "家的小铺": ["snacks", "produce"],
    "巧手工作室": ["embroidery", "textiles"], "的渔家厨房": ["seafood", "snacks"],
    "的山居": ["homestay", "tea"], "绣坊": ["embroidery"], "的茶园": ["tea", "produce"],
    "的竹编铺": ["weaving"],
}
PALETTE = [(214, 51, 108), (240, 128, 128), (46, 139, 87), (70, 130, 180), (218, 165, 32),
           (147, 112, 219), (205, 92, 92), (60, 179, 113), (100, 149, 237), (210, 105, 30)]


def make_image_bytes(seed: int, size: int = 640) -> bytes:
    """A distinct, pleasant pattern image made with Pillow: no downloads."""
    import io

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


def product_rows(rnd: random.Random, category: str) -> tuple[str, str]:
    items, adjectives, template = PRODUCT_SPECS[category]
    adj = rnd.choice(adjectives)
    title = f"{adj}{rnd.choice(items)}"
    return title, template.format(adj=adj)
