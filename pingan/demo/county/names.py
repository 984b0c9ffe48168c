"""Chinese names and mobile numbers for the county's people, from a seeded stream."""

from __future__ import annotations

import random

# Weighted towards the surnames common in southern Jiangxi (刘, 罗, 曾, 肖, 郭 ...).
SURNAMES = (
    "刘" * 6
    + "罗" * 4
    + "曾" * 4
    + "肖" * 4
    + "郭" * 3
    + "李" * 5
    + "王" * 5
    + "陈" * 5
    + "胡" * 3
    + "黄" * 4
    + "钟" * 3
    + "邓" * 3
    + "彭" * 3
    + "廖" * 3
    + "谢" * 3
    + "吴" * 2
    + "张" * 4
    + "杨" * 2
    + "周" * 2
    + "徐" * 2
    + "朱" * 2
    + "郑林何袁温赖邱卢汤尹蔡"
)
GIVEN_CHARS = (
    "建国华明伟芳丽强军平红英文斌杰涛勇俊志海燕霞玲秀兰桂春林峰磊亮辉超刚敏静"
    "婷雪梅洪德福贵荣祥宏宇鹏飞晨浩然欣怡佳琪子轩思远嘉庆水根发金"
)
MOBILE_PREFIXES = (
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "173",
    "177",
    "180",
    "181",
    "189",
    "191",
    "199",
)


class Names:
    """Chinese names and unique mobile numbers from one seeded stream."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.phones: set[str] = set()

    def person(self) -> str:
        given = "".join(self.rng.choice(GIVEN_CHARS) for _ in range(self.rng.choice((1, 2, 2))))
        return self.rng.choice(SURNAMES) + given

    def phone(self) -> str:
        while True:
            number = "+86" + self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number
