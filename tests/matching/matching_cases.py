"""Small hand-made mentors and requests whose right answers are obvious to a person."""
from matching import HelpRequest, Mentor


def xiangshan_mentors() -> list[Mentor]:
    return [
        Mentor("xs-seafood", "entrepreneur", ["seafood", "ecommerce"],
               ["live_streaming", "e_commerce", "branding"], "象山县", 3, current_load=1,
               bio="我是象山人，做海鲜电商十年，擅长抖音直播带货和网店运营。"),
        Mentor("yy-scientist", "scientist", ["agriculture"], ["technology", "quality"],
               "余姚市", 4, bio="农科院研究员，专注杨梅种植技术和品质检测。"),
        Mentor("nh-embroidery", "craftswoman", ["embroidery", "handicraft"],
               ["product_design", "branding"], "宁海县", 2,
               bio="宁海金银彩绣传承人，擅长文创产品设计和包装设计。"),
        Mentor("yz-finance", "entrepreneur", ["food"], ["financing", "management"],
               "鄞州区", 2, bio="经营食品企业二十年，熟悉创业贷款和企业管理。"),
        Mentor("bl-seafood-far", "entrepreneur", ["seafood"], ["export", "supply_chain"],
               "北仑区", 2, bio="做海产品外贸出口，熟悉冷链物流。"),
    ]


def seafood_request(**changes) -> HelpRequest:
    fields = dict(id="req-1", industry="seafood", difficulties=["e_commerce", "live_streaming"],
                  region="象山县", description="我在象山养殖梭子蟹，想学直播带货，网店没有流量。")
    fields.update(changes)
    return HelpRequest(**fields)
