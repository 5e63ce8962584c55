#!/usr/bin/env python3
"""Generate (and check) the SYNTHETIC Enping sample data set for Dudao.

All figures are invented. Town names and the plan's projects are real; every count,
ratio and compliance state below is made up to exercise the indicators, and says
nothing about any real institution.

    python3 generate.py [OUTDIR]          write the nine JSON Lines files (default: ./data)
    python3 generate.py --check [DIR]     validate the files and print a summary

Standard library only; the output is byte-for-byte deterministic (fixed seed, fixed
order, no clock).
"""

import json
import math
import os
import random
import re
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.join(HERE, "data")
SEED = 20230310  # the day the plan was issued
YEARS = (2023, 2024, 2025)
HEARTBEAT_AT = "2026-11-29T08:00:00+08:00"

FILES = (
    "01-towns.jsonl",
    "02-institutions.jsonl",
    "03-population.jsonl",
    "04-preschool-census.jsonl",
    "05-compulsory.jsonl",
    "06-finance-survey-talent.jsonl",
    "07-projects.jsonl",
    "08-safety-inventory.jsonl",
    "09-safety-heartbeats.jsonl",
)

# town_id, name, kind, children born in 2018, number of kindergartens
TOWNS = (
    ("encheng", "恩城街道", "street", 1800, 27),
    ("hengbei", "横陂镇", "town", 380, 6),
    ("shengtang", "圣堂镇", "town", 420, 6),
    ("liangxi", "良西镇", "town", 220, 4),
    ("shahu", "沙湖镇", "town", 420, 6),
    ("niujiang", "牛江镇", "town", 330, 5),
    ("juntang", "君堂镇", "town", 380, 6),
    ("datian", "大田镇", "town", 270, 5),
    ("naji", "那吉镇", "town", 220, 4),
    ("dahuai", "大槐镇", "town", 330, 5),
    ("dongcheng", "东成镇", "town", 380, 6),
)
# Naji's central kindergarten is still being relocated (plan 四(二)): no town_central there.
TOWN_WITHOUT_CENTRAL = "naji"
# Relative size of the birth cohorts 2018..2022 (falling births).
BIRTH_TREND = {2018: 1.00, 2019: 0.95, 2020: 0.865, 2021: 0.815, 2022: 0.765}

# City-level targets the generator aims at, per year (the checker reports what came out).
AIM = {
    #       gross %, inclusive %, public %, P(2 teachers in a class), P(caregiver in a class)
    2023: (98.6, 84.2, 48.3, 0.68, 0.80),
    2024: (100.4, 86.1, 50.6, 0.72, 0.86),
    2025: (101.7, 88.3, 52.6, 0.80, 0.90),
}
CLASS_LIMIT = {"small": 25, "middle": 30, "large": 35, "mixed": 30}
CLASS_AIM = {"small": 22, "middle": 27, "large": 31, "mixed": 25}
CROWDED = {2023: 0.30, 2024: 0.27, 2025: 0.20}  # share of kindergartens packing classes over the limit
EXTRA_STAFF = {2023: 0, 2024: 0, 2025: 1}
ENCHENG_PUBLIC = ("恩城街道中心幼儿园", "恩平市第一幼儿园", "恩平市第二幼儿园", "恩平市第三幼儿园",
                  "恩平市机关幼儿园", "恩平市第一幼儿园东安分园", "恩平市米仓幼儿园", "锦江帝景幼儿园")
NAMED = {"kg-dongcheng-02": "东成镇第一幼儿园", "kg-dahuai-02": "恩平市第一幼儿园大槐分园"}
OPENED_2024 = "kg-dongcheng-02"  # the converted 金坑小学 (project proj-kg-jinkeng)

PRIVATE_NAMES = ("小天使", "博雅", "童乐", "蓓蕾", "启智", "阳光", "金太阳", "育苗", "小博士",
                 "七彩", "贝贝", "星光", "新苗", "智慧树", "小精灵", "春苗", "快乐宝贝", "红苹果",
                 "彩虹", "英才", "童心", "小画家", "明珠", "嘉禾", "新星", "书香", "雅乐", "康乐")
VILLAGE_NAMES = ("东安", "米仓", "西安", "锦江", "沙冈", "莲塘", "南坑", "北安", "新联", "塘龙",
                 "联和", "江南", "平石", "石联", "龙山", "水楼", "长安", "塘仔", "中和", "凤山")


def money(x):
    """A decimal amount: integral values as integers, others to one decimal."""
    x = round(float(x), 1)
    return int(x) if x == int(x) else x


def with_areas(body):
    """The census with its principal (certified or not) and premises (outdoor ground, activity rooms, building; m²), per child
    within a range by kindergarten: derived from the id (crc32), not from the seeded generator,
    so every other figure of the sample stays as it was."""
    children = sum(c["children"] for c in body["classes"])
    def per_child(field, low, high):
        fraction = (zlib.crc32((body["institution_id"] + field).encode()) % 1000) / 1000
        return round(children * (low + (high - low) * fraction))
    body = dict(body)
    body["principals"] = 1
    body["certified_principals"] = 0 if zlib.crc32((body["institution_id"] + "principal").encode()) % 12 == 0 else 1
    body["outdoor_area_m2"] = per_child("outdoor", 3.6, 6.5)
    body["activity_room_area_m2"] = per_child("activity", 1.8, 2.9)
    body["building_area_m2"] = per_child("building", 8.6, 12.5)
    return body


def envelope(env_id, feed_type, body):
    return {"v": 1, "kind": "feed", "id": env_id, "type": feed_type, "body": body}


def split_int(total, weights):
    """Split an integer total in proportion to weights (largest remainder, stable)."""
    s = float(sum(weights))
    raw = [total * w / s for w in weights]
    out = [int(math.floor(x)) for x in raw]
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[:rest]:
        out[i] += 1
    return out


# --------------------------------------------------------------------------- generation

def make_institutions(rng):
    kgs, schools = [], []
    for town_id, tname, kind, births, n_kg in TOWNS:
        first = len(kgs)
        private_names = list(PRIVATE_NAMES)
        rng.shuffle(private_names)
        villages = list(VILLAGE_NAMES)
        rng.shuffle(villages)
        # ownership mix per town: encheng more private, rural towns mostly public
        if town_id == "encheng":
            owners = ["public"] * 11 + ["inclusive_private"] * 10 + ["private"] * 6
        else:
            n_pub = (n_kg + 1) // 2
            n_priv = 1 if n_kg >= 5 else 0
            owners = ["public"] * n_pub + ["inclusive_private"] * (n_kg - n_pub - n_priv) + ["private"] * n_priv
        pub_seq = 0
        for i, own in enumerate(owners, 1):
            kid = "kg-%s-%02d" % (town_id, i)
            central = own == "public" and pub_seq == 0 and town_id != TOWN_WITHOUT_CENTRAL
            if own == "public":
                pub_seq += 1
                if central:
                    name = tname + "中心幼儿园"
                elif kid in NAMED:
                    name = NAMED[kid]
                elif town_id == "encheng" and pub_seq <= len(ENCHENG_PUBLIC):
                    name = ENCHENG_PUBLIC[pub_seq - 1]
                else:
                    name = "%s%s幼儿园" % (tname, villages.pop(0))
            else:
                name = "%s%s幼儿园" % (tname if town_id != "encheng" else "恩平市", private_names.pop(0))
            # relative size within the town: central kindergartens are bigger, private smaller
            w = rng.uniform(1.3, 1.6) if central else rng.uniform(0.7, 1.1) * (0.8 if own == "private" else 1)
            kgs.append({"id": kid, "name": name, "town": town_id, "own": own,
                        "central": central, "w": w,
                        "crowd": rng.random() * (0.6 if own != "public" else 1.6)})
        # scale to the town's demand: encheng also takes children from the towns around it
        town = kgs[first:]
        demand = births * (1.12 if town_id == "encheng" else 0.95) / sum(k["w"] for k in town)
        for k in town:
            k["w"] *= demand

    def school(sid, name, town, level, own="public", size=0):
        schools.append({"id": sid, "name": name, "town": town, "level": level, "own": own, "size": size})

    cn = "一二三四五六"
    for i in range(1, 7):
        school("ps-encheng-%02d" % i, "恩城街道第%s小学" % cn[i - 1], "encheng", "primary", size=rng.randint(330, 420))
    for i in range(1, 4):
        school("js-encheng-%02d" % i, "恩城街道第%s初级中学" % cn[i - 1], "encheng", "junior", size=rng.randint(600, 720))
    school("ny-encheng-01", "恩平市育英学校", "encheng", "nine_year", "private", size=170)
    school("sp-encheng-01", "恩平市特殊教育学校", "encheng", "special", size=13)
    school("hs-encheng-01", "恩平市第一中学", "encheng", "senior_high")
    school("hs-encheng-02", "恩平市华侨中学", "encheng", "senior_high")
    for town_id, tname, _, _, _ in TOWNS[1:]:
        school("ps-%s-01" % town_id, "%s中心小学" % tname, town_id, "primary", size=rng.randint(160, 200))
        school("ps-%s-02" % town_id, "%s第二小学" % tname, town_id, "primary", size=rng.randint(70, 110))
        if town_id in ("liangxi", "naji"):
            school("ny-%s-01" % town_id, "%s九年一贯制学校" % tname, town_id, "nine_year", size=rng.randint(80, 100))
        else:
            school("js-%s-01" % town_id, "%s初级中学" % tname, town_id, "junior", size=rng.randint(220, 270))
    return kgs, schools


def make_population(rng):
    """town_id -> year -> (age_3, age_4, age_5), from births with some in/out migration."""
    pop = {}
    for town_id, _, _, base, _ in TOWNS:
        births = {y: base * f * rng.uniform(0.97, 1.03) for y, f in BIRTH_TREND.items()}
        drift = 0.025 if town_id == "encheng" else -0.012  # net migration per year of age
        pop[town_id] = {}
        for year in YEARS:
            ages = []
            for age in (3, 4, 5):
                ages.append(int(round(births[year - age] * (1 + drift * (age - 3)) * rng.uniform(0.99, 1.01))))
            pop[town_id][year] = tuple(ages)
    return pop


def make_classes(rng, n, crowded, rural_small):
    """[(level, children)] for n children; a crowded kindergarten packs its classes fuller."""
    aim = dict(CLASS_AIM)
    if crowded:
        aim = {k: v + 4 for k, v in aim.items()}
    if rural_small:  # small village kindergartens: one class per age, extra children in a mixed class
        k = max(3, min(5, int(round(n / 27.0))))
        levels = ["mixed"] * (k - 3) + ["small", "middle", "large"]
    else:
        k = max(3, min(12, int(round(n / (sum(aim[l] for l in ("small", "middle", "large")) / 3.0)))))
        levels = [("small", "middle", "large")[i % 3] for i in range(k)]
        levels.sort(key=["small", "middle", "large"].index)
    sizes = split_int(n, [aim[l] * rng.uniform(0.93, 1.07) for l in levels])
    return list(zip(levels, sizes))


def make_preschool(rng, kgs, pop):
    """year -> list of preschool.census bodies, landing near AIM[year] at city level."""
    census = {}
    for year in YEARS:
        gross, inclusive, public, p_two, p_carer = AIM[year]
        residents = sum(sum(pop[t][year]) for t in pop)
        total = int(round(residents * gross / 100.0))
        by_own = {"public": int(round(total * public / 100.0))}
        by_own["inclusive_private"] = int(round(total * inclusive / 100.0)) - by_own["public"]
        by_own["private"] = total - by_own["public"] - by_own["inclusive_private"]
        open_kgs = [k for k in kgs if not (k["id"] == OPENED_2024 and year == 2023)]
        children = {}
        for own, n in by_own.items():
            group = [k for k in open_kgs if k["own"] == own]
            ws = [k["w"] * rng.uniform(0.95, 1.05) for k in group]
            for k, c in zip(group, split_int(n, ws)):
                children[k["id"]] = c
        rows = []
        for k in open_kgs:
            n = children[k["id"]]
            rural_small = k["town"] != "encheng" and n < 120
            classes = []
            t_sum = c_sum = 0
            better = {"public": 0.06, "inclusive_private": 0.0, "private": -0.12}[k["own"]]
            for i, (level, size) in enumerate(make_classes(rng, n, k["crowd"] < CROWDED[year], rural_small), 1):
                teachers = 2 if rng.random() < p_two + better else 1
                carers = 1 if rng.random() < p_carer + better else 0
                t_sum += teachers
                c_sum += carers
                classes.append({"class_id": "%s-%d-%02d" % (k["id"], year, i), "level": level,
                                "children": size, "teachers": teachers, "caregivers": carers})
            ftt = t_sum + (1 if rng.random() < 0.35 else 0)
            carers = c_sum + (1 if rng.random() < 0.2 else 0)
            staff = ftt + carers + 2 + int(round(n / 55.0)) + rng.randint(0, 2) + EXTRA_STAFF[year]
            uncert_p = {"public": 0.0, "inclusive_private": 0.02, "private": 0.08}[k["own"]] * (2026 - year) / 3.0
            certified = ftt - sum(1 for _ in range(ftt) if rng.random() < uncert_p)
            disabled = 0
            if k["own"] != "private":
                disabled = rng.choice((0, 0, 0, 1, 1, 2)) if k["central"] or k["town"] == "encheng" else rng.choice((0, 0, 0, 1))
            rows.append({"institution_id": k["id"], "year": year, "classes": classes,
                         "full_time_teachers": ftt, "caregivers": carers, "staff_total": staff,
                         "certified_teachers": certified, "disabled_children_certified": disabled})
        census[year] = rows
    return census


def make_compulsory(rng, schools):
    census = {}
    large_aim = {2023: 4, 2024: 2, 2025: 1}  # classes with 56+ students (大班额) still left
    migrant_priv = {2023: 0.30, 2024: 0.25, 2025: 0.20}
    for year in YEARS:
        rows = []
        for s in schools:
            if s["level"] == "senior_high":
                continue
            grades = {"primary": range(1, 7), "junior": range(7, 10)}.get(s["level"], range(1, 10))
            per_class = 10 if s["level"] == "special" else 45
            shrink = 1 - 0.012 * (year - 2023) if s["town"] != "encheng" else 1 + 0.01 * (year - 2023)
            classes = []
            for g in grades:
                n = max(6, int(round(s["size"] * shrink * rng.uniform(0.9, 1.1))))
                if s["level"] == "junior" or (s["level"] == "nine_year" and g >= 7):
                    n = int(round(n * 0.97))
                k = max(1, int(math.ceil(n / float(per_class))))
                for i, c in enumerate(split_int(n, [rng.uniform(0.95, 1.05) for _ in range(k)]), 1):
                    classes.append({"class_id": "%s-%d-g%d-%02d" % (s["id"], year, g, i), "grade": g, "students": c})
            rows.append({"school": s, "classes": classes})
        # make a few big urban classes: move students within a grade into one class
        big = [r for r in rows if r["school"]["id"] in ("ps-encheng-01", "ps-encheng-03", "js-encheng-02")]
        made = 0
        for r in big:
            for g in sorted({c["grade"] for c in r["classes"]}):
                if made >= large_aim[year]:
                    break
                same = [c for c in r["classes"] if c["grade"] == g]
                if len(same) < 4 or (g + year) % 3:
                    continue
                target = same[0]
                want = rng.randint(56, 59) - target["students"]
                for donor in same[1:]:
                    give = min(want, donor["students"] - 38)
                    if give > 0:
                        donor["students"] -= give
                        target["students"] += give
                        want -= give
                made += 1
        out = []
        for r in rows:
            s = r["school"]
            students = sum(c["students"] for c in r["classes"])
            if s["own"] == "private":
                share = migrant_priv[year]
            elif s["town"] == "encheng":
                share = 0.11
            else:
                share = 0.045
            migrant = int(round(students * share * rng.uniform(0.9, 1.1)))
            out.append({"institution_id": s["id"], "year": year, "students": students,
                        "migrant_students": migrant, "classes": r["classes"]})
        census[year] = out
    return census


def build(rng):
    kgs, schools = make_institutions(rng)
    pop = make_population(rng)
    pre = make_preschool(rng, kgs, pop)
    comp = make_compulsory(rng, schools)
    files = {name: [] for name in FILES}

    for town_id, name, kind, _, _ in TOWNS:
        files["01-towns.jsonl"].append(envelope("sample-registry.town-" + town_id, "registry.town",
                                                {"town_id": town_id, "name": name, "kind": kind}))
    for k in kgs:
        body = {"institution_id": k["id"], "name": k["name"], "town_id": k["town"],
                "level": "kindergarten", "ownership": k["own"]}
        if k["central"]:
            body["town_central"] = True
        files["02-institutions.jsonl"].append(envelope("sample-registry.institution-" + k["id"], "registry.institution", body))
    for s in schools:
        body = {"institution_id": s["id"], "name": s["name"], "town_id": s["town"],
                "level": s["level"], "ownership": s["own"]}
        files["02-institutions.jsonl"].append(envelope("sample-registry.institution-" + s["id"], "registry.institution", body))

    for year in YEARS:
        for town_id, _, _, _, _ in TOWNS:
            a3, a4, a5 = pop[town_id][year]
            files["03-population.jsonl"].append(envelope(
                "sample-population.cohort-%s-%d" % (town_id, year), "population.cohort",
                {"town_id": town_id, "year": year, "age_3": a3, "age_4": a4, "age_5": a5}))

    disabled_kg = {}
    for year in YEARS:
        for body in pre[year]:
            files["04-preschool-census.jsonl"].append(envelope(
                "sample-preschool.census-%s-%d" % (body["institution_id"], year), "preschool.census", with_areas(body)))
        disabled_kg[year] = sum(b["disabled_children_certified"] for b in pre[year])

    f5 = files["05-compulsory.jsonl"]
    for year in YEARS:
        for body in comp[year]:
            f5.append(envelope("sample-compulsory.census-%s-%d" % (body["institution_id"], year), "compulsory.census", body))
    retention = {2023: 95.4, 2024: 96.2, 2025: 96.9}
    special = {2023: (186, 179, 21), 2024: (181, 176, 17), 2025: (177, 174, 15)}
    disabled_rate = {2023: 0.86, 2024: 0.89, 2025: 0.925}
    for year in YEARS:
        grade9 = sum(c["students"] for b in comp[year] for c in b["classes"]
                     if c["grade"] == 9 and not b["institution_id"].startswith("sp-"))
        f5.append(envelope("sample-compulsory.retention-%d" % year, "compulsory.retention",
                           {"year": year, "grade9_students": grade9,
                            "cohort_entrants": int(round(grade9 * 100.0 / retention[year]))}))
    for year in YEARS:
        school_age, enrolled, home = special[year]
        f5.append(envelope("sample-special.population-%d" % year, "special.population",
                           {"year": year, "disabled_school_age": school_age, "enrolled": enrolled,
                            "home_delivered": home,
                            "disabled_preschool_age_certified": int(math.ceil(disabled_kg[year] / disabled_rate[year]))}))

    f6 = files["06-finance-survey-talent.jsonl"]
    finance = {2023: (11200, 158650, 520, 500), 2024: (11480.5, 163215.6, 550, 500), 2025: (11820, 169438.2, 580, 550)}
    for year in YEARS:
        pre_w, edu_w, per_pupil, subsidy = finance[year]
        f6.append(envelope("sample-finance.year-%d" % year, "finance.year",
                           {"year": year, "preschool_fiscal_wan": money(pre_w), "education_fiscal_wan": money(edu_w),
                            "public_kg_per_pupil_yuan": money(per_pupil),
                            "inclusive_private_subsidy_yuan": money(subsidy)}))
    survey = {2023: (1260, 1063), 2024: (1315, 1149), 2025: (1402, 1271)}
    for year in YEARS:
        f6.append(envelope("sample-survey.recognition-%d" % year, "survey.recognition",
                           {"year": year, "respondents": survey[year][0], "satisfied": survey[year][1]}))
    talent = {2023: (54, 8, (0, 4, 16)), 2024: (61, 10, (1, 6, 20)), 2025: (66, 12, (1, 7, 23))}
    for year in YEARS:
        famous, excellent, (prov, city, county) = talent[year]
        f6.append(envelope("sample-talent.year-%d" % year, "talent.year",
                           {"year": year, "county_famous_teachers": famous, "city_excellent_teachers": excellent,
                            "studios": {"provincial": prov, "city": city, "county": county}}))

    # project_id, name, kind, seats, investment (万元), due, status, share of seats/investment done
    projects = (
        ("proj-kg-shiyan", "恩平市实验幼儿园新建工程", "kindergarten", 500, 10400, "2024-08-31", "building", 0.0, 0.72),
        ("proj-kg-dongan", "恩平市第一幼儿园东安分园建设工程", "kindergarten", 500, 2000, "2023-08-31", "done", 1, 1),
        ("proj-kg-jinkeng", "金坑小学改(扩)建为东成镇第一幼儿园工程", "kindergarten", 360, 2000, "2024-08-31", "done", 1, 0.97),
        ("proj-kg-micang", "米仓小学改建为米仓幼儿园工程", "kindergarten", 270, 1000, "2023-08-31", "done", 1, 1),
        ("proj-kg-xian", "西安小学改建为公办幼儿园工程", "kindergarten", 360, 3000, "2024-12-31", "building", 0.0, 0.55),
        ("proj-kg-jinjiang", "锦江帝景幼儿园建设工程", "kindergarten", 270, 800, "2023-08-31", "done", 1, 1),
        ("proj-kg-niujiang-central", "牛江镇中心幼儿园扩建工程", "kindergarten", 270, 1000, "2023-12-31", "done", 1, 0.98),
        ("proj-kg-shengtang-central", "圣堂镇中心幼儿园扩建工程", "kindergarten", 270, 1000, "2023-12-31", "done", 1, 1),
        ("proj-kg-hengbei-central", "横陂镇中心幼儿园扩建工程", "kindergarten", 270, 1000, "2024-08-31", "done", 1, 0.95),
        ("proj-ps-xincheng", "恩城街道新城小学新建工程", "primary", 1620, 18600, "2025-08-31", "done", 1, 0.96),
        ("proj-ps-shiyan", "恩平市实验小学扩建工程", "primary", 1080, 9800, "2024-08-31", "done", 1, 1),
        ("proj-ps-shengtang", "圣堂镇中心小学改扩建工程", "primary", 810, 5200, "2024-08-31", "done", 1, 1),
        ("proj-ps-shahu", "沙湖镇中心小学扩建工程", "primary", 810, 5400, "2025-08-31", "building", 0.0, 0.64),
        ("proj-ps-juntang", "君堂镇中心小学扩建工程", "primary", 540, 3680, "2025-08-31", "done", 1, 0.99),
        ("proj-ps-dongcheng", "东成镇中心小学改扩建工程", "primary", 1130, 7600, "2025-12-31", "planned", 0.0, 0.08),
        ("proj-js-xincheng", "恩城街道新城中学新建工程", "junior", 1200, 14200, "2025-08-31", "building", 0.0, 0.81),
        ("proj-js-hengbei", "横陂镇初级中学扩建工程", "junior", 700, 5200, "2024-08-31", "done", 1, 1),
    )
    for pid, name, kind, seats, inv, due, status, seat_share, inv_share in projects:
        f7 = files["07-projects.jsonl"]
        f7.append(envelope("sample-project.progress-" + pid, "project.progress",
                           {"project_id": pid, "name": name, "kind": kind, "seats_planned": seats,
                            "seats_delivered": int(round(seats * seat_share)),
                            "investment_planned_wan": inv, "invested_wan": money(inv * inv_share),
                            "due": due, "status": status}))

    # safety: every kindergarten except a few unreported ones; a few non-compliant
    unreported = {"kg-encheng-25", "kg-juntang-06", "kg-datian-05"}
    no_alarm = {"kg-encheng-26", "kg-shahu-06"}
    not_linked = {"kg-encheng-18", "kg-dahuai-04", "kg-liangxi-03"}
    not_closed = {"kg-niujiang-05"}
    short_guards = {"kg-encheng-23", "kg-hengbei-06", "kg-dongcheng-05"}
    size = {b["institution_id"]: sum(c["children"] for c in b["classes"]) for b in pre[2025]}
    devices = []
    for k in kgs:
        kid = k["id"]
        if kid in unreported:
            continue
        n = size[kid]
        alarms = [] if kid in no_alarm else ["alarm-%s-%d" % (kid, i) for i in range(1, (3 if n >= 220 else 2))]
        devices += [(d, kid) for d in alarms]
        cameras = 8 + n // 12 + rng.randint(0, 6)
        linked = kid not in not_linked
        required = 1 if n < 150 else (2 if n < 300 else 3)
        files["08-safety-inventory.jsonl"].append(envelope(
            "sample-safety.inventory-" + kid, "safety.inventory",
            {"institution_id": kid, "alarm_devices": alarms, "cctv_police_linked": linked,
             "cameras": cameras, "cameras_linked": cameras if linked else rng.randint(0, cameras // 2),
             "closed_management": kid not in not_closed, "guards_required": required,
             "guards_full_time": required - 1 if kid in short_guards else required + (1 if rng.random() < 0.15 else 0)}))
    faulty = {devices[5][0], devices[40][0]}
    for dev, kid in devices:
        files["09-safety-heartbeats.jsonl"].append(envelope(
            "sample-safety.heartbeat-%s-20261129T0800" % dev, "safety.heartbeat",
            {"device_id": dev, "institution_id": kid, "device_kind": "alarm", "at": HEARTBEAT_AT,
             "status": "fault" if dev in faulty else "ok"}))
    return files


def write(outdir):
    files = build(random.Random(SEED))
    os.makedirs(outdir, exist_ok=True)
    for name in FILES:
        with open(os.path.join(outdir, name), "w", encoding="utf-8", newline="\n") as f:
            for env in files[name]:
                f.write(json.dumps(env, ensure_ascii=False, separators=(",", ":")) + "\n")
        print("wrote %-32s %5d lines" % (name, len(files[name])))


# --------------------------------------------------------------------------- checking

INT, NUM, STR, BOOL, DATE, TIME = "int", "num", "str", "bool", "date", "time"
REF_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ENV_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ISODATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LEVELS = ("kindergarten", "primary", "junior", "nine_year", "senior_high", "special")
COMPULSORY = ("primary", "junior", "nine_year", "special")

# type -> field -> (kind, required, enum or None)
SCHEMA = {
    "registry.town": {"town_id": (STR, 1), "name": (STR, 1), "kind": (("town", "street"), 1)},
    "registry.institution": {"institution_id": (STR, 1), "name": (STR, 1), "town_id": (STR, 1),
                             "level": (LEVELS, 1), "ownership": (("public", "inclusive_private", "private"), 1),
                             "town_central": (BOOL, 0)},
    "population.cohort": {"town_id": (STR, 1), "year": (INT, 1), "age_3": (INT, 1), "age_4": (INT, 1), "age_5": (INT, 1)},
    "preschool.census": {"institution_id": (STR, 1), "year": (INT, 1), "classes": ("classes_kg", 1),
                         "full_time_teachers": (INT, 1), "caregivers": (INT, 1), "staff_total": (INT, 1),
                         "certified_teachers": (INT, 1), "disabled_children_certified": (INT, 1),
                         "principals": (INT, 0), "certified_principals": (INT, 0), "outdoor_area_m2": (NUM, 0), "activity_room_area_m2": (NUM, 0), "building_area_m2": (NUM, 0)},
    "compulsory.census": {"institution_id": (STR, 1), "year": (INT, 1), "students": (INT, 1),
                          "migrant_students": (INT, 1), "classes": ("classes_cs", 1)},
    "compulsory.retention": {"year": (INT, 1), "grade9_students": (INT, 1), "cohort_entrants": (INT, 1)},
    "special.population": {"year": (INT, 1), "disabled_school_age": (INT, 1), "enrolled": (INT, 1),
                           "home_delivered": (INT, 1), "disabled_preschool_age_certified": (INT, 1)},
    "finance.year": {"year": (INT, 1), "preschool_fiscal_wan": (NUM, 1), "education_fiscal_wan": (NUM, 1),
                     "public_kg_per_pupil_yuan": (NUM, 1), "inclusive_private_subsidy_yuan": (NUM, 1)},
    "survey.recognition": {"year": (INT, 1), "respondents": (INT, 1), "satisfied": (INT, 1)},
    "talent.year": {"year": (INT, 1), "county_famous_teachers": (INT, 1), "city_excellent_teachers": (INT, 1),
                    "studios": ("studios", 1)},
    "project.progress": {"project_id": (STR, 1), "name": (STR, 1), "kind": (("kindergarten", "primary", "junior"), 1),
                         "seats_planned": (INT, 1), "seats_delivered": (INT, 1), "investment_planned_wan": (NUM, 1),
                         "invested_wan": (NUM, 1), "due": (DATE, 1), "status": (("planned", "building", "done"), 1)},
    "safety.inventory": {"institution_id": (STR, 1), "alarm_devices": ("devices", 1), "cctv_police_linked": (BOOL, 1),
                         "cameras": (INT, 1), "cameras_linked": (INT, 1), "closed_management": (BOOL, 1),
                         "guards_required": (INT, 1), "guards_full_time": (INT, 1)},
    "safety.heartbeat": {"device_id": (STR, 1), "institution_id": (STR, 1), "device_kind": (("alarm", "cctv_link"), 1),
                         "at": (TIME, 1), "status": (("ok", "fault"), 1)},
}
ALLOWED_IN_FILE = {
    "01-towns.jsonl": {"registry.town"},
    "02-institutions.jsonl": {"registry.institution"},
    "03-population.jsonl": {"population.cohort"},
    "04-preschool-census.jsonl": {"preschool.census"},
    "05-compulsory.jsonl": {"compulsory.census", "compulsory.retention", "special.population"},
    "06-finance-survey-talent.jsonl": {"finance.year", "survey.recognition", "talent.year"},
    "07-projects.jsonl": {"project.progress"},
    "08-safety-inventory.jsonl": {"safety.inventory"},
    "09-safety-heartbeats.jsonl": {"safety.heartbeat"},
}


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def check_fields(obj, spec, path, errs):
    if not isinstance(obj, dict):
        errs.append("%s: not an object" % path)
        return
    for f in obj:
        if f not in spec:
            errs.append("%s.%s: unknown field" % (path, f))
    for f, (kind, required) in spec.items():
        if f not in obj:
            if required:
                errs.append("%s.%s: missing" % (path, f))
            continue
        v, p = obj[f], "%s.%s" % (path, f)
        if kind == INT:
            if not is_int(v) or v < 0:
                errs.append("%s: not an integer >= 0: %r" % (p, v))
            elif f == "year" and not 2000 <= v <= 2100:
                errs.append("%s: year out of range" % p)
        elif kind == NUM:
            if not (is_int(v) or isinstance(v, float)) or v < 0:
                errs.append("%s: not a number >= 0: %r" % (p, v))
        elif kind == STR:
            if not isinstance(v, str) or not v:
                errs.append("%s: not a non-empty string" % p)
            elif f.endswith("_id") and not REF_ID.match(v):
                errs.append("%s: bad id %r" % (p, v))
        elif kind == BOOL:
            if not isinstance(v, bool):
                errs.append("%s: not a bool" % p)
        elif kind == DATE:
            if not isinstance(v, str) or not ISODATE.match(v):
                errs.append("%s: not YYYY-MM-DD" % p)
        elif kind == TIME:
            if not isinstance(v, str) or not RFC3339.match(v):
                errs.append("%s: not RFC 3339" % p)
        elif isinstance(kind, tuple):
            if v not in kind:
                errs.append("%s: %r not one of %s" % (p, v, "|".join(kind)))
        elif kind == "classes_kg":
            sub = {"class_id": (STR, 1), "level": (("small", "middle", "large", "mixed"), 1),
                   "children": (INT, 1), "teachers": (INT, 1), "caregivers": (INT, 1)}
            check_list(v, sub, p, errs)
        elif kind == "classes_cs":
            check_list(v, {"class_id": (STR, 1), "grade": (INT, 1), "students": (INT, 1)}, p, errs)
        elif kind == "studios":
            check_fields(v, {"provincial": (INT, 1), "city": (INT, 1), "county": (INT, 1)}, p, errs)
        elif kind == "devices":
            if not isinstance(v, list) or not all(isinstance(d, str) and REF_ID.match(d) for d in v):
                errs.append("%s: not a list of device ids" % p)


def check_list(v, sub, path, errs):
    if not isinstance(v, list) or not v:
        errs.append("%s: not a non-empty list" % path)
        return
    for i, item in enumerate(v):
        check_fields(item, sub, "%s[%d]" % (path, i), errs)
        n = item.get("children", item.get("students")) if isinstance(item, dict) else None
        if is_int(n) and n > 200:
            errs.append("%s[%d]: more than 200 in one class" % (path, i))


def check(datadir):
    errs = []
    towns, insts, ids, devices = {}, {}, set(), {}
    counts, by_type = {}, {}
    for name in FILES:
        path = os.path.join(datadir, name)
        if not os.path.exists(path):
            errs.append("%s: missing" % name)
            continue
        with open(path, encoding="utf-8") as f:
            for ln, line in enumerate(f, 1):
                where = "%s:%d" % (name, ln)
                try:
                    env = json.loads(line)
                except ValueError as e:
                    errs.append("%s: does not parse: %s" % (where, e))
                    continue
                if set(env) != {"v", "kind", "id", "type", "body"} or env["v"] != 1 or env["kind"] != "feed":
                    errs.append("%s: bad envelope" % where)
                    continue
                if not isinstance(env["id"], str) or not ENV_ID.match(env["id"]):
                    errs.append("%s: bad envelope id %r" % (where, env["id"]))
                if env["id"] in ids:
                    errs.append("%s: duplicate envelope id %s" % (where, env["id"]))
                ids.add(env["id"])
                t, b = env["type"], env["body"]
                if t not in ALLOWED_IN_FILE[name]:
                    errs.append("%s: type %s does not belong in this file" % (where, t))
                    continue
                before = len(errs)
                check_fields(b, SCHEMA[t], where + " body", errs)
                if len(errs) > before:
                    continue
                counts[t] = counts.get(t, 0) + 1
                by_type.setdefault(t, []).append(b)
                check_rules(t, b, where, towns, insts, devices, errs)
    if errs:
        for e in errs[:50]:
            print("ERROR", e)
        print("%d error(s)" % len(errs))
        return 1
    summary(counts, by_type, towns, insts)
    return 0


def check_rules(t, b, where, towns, insts, devices, errs):
    def need_town(tid):
        if tid not in towns:
            errs.append("%s: town %s not registered before this line" % (where, tid))

    def need_inst(iid, levels=None):
        if iid not in insts:
            errs.append("%s: institution %s not registered before this line" % (where, iid))
        elif levels and insts[iid]["level"] not in levels:
            errs.append("%s: %s is a %s, not %s" % (where, iid, insts[iid]["level"], "/".join(levels)))

    if t == "registry.town":
        towns[b["town_id"]] = b
    elif t == "registry.institution":
        need_town(b["town_id"])
        if b.get("town_central") and (b["level"] != "kindergarten" or b["ownership"] != "public"):
            errs.append("%s: town_central only for public kindergartens" % where)
        if b["level"] != "kindergarten" and b["ownership"] == "inclusive_private":
            errs.append("%s: inclusive_private is a kindergarten category" % where)
        insts[b["institution_id"]] = b
    elif t == "population.cohort":
        need_town(b["town_id"])
    elif t == "preschool.census":
        need_inst(b["institution_id"], ("kindergarten",))
        if b["certified_teachers"] > b["full_time_teachers"]:
            errs.append("%s: certified_teachers > full_time_teachers" % where)
        if sum(c["teachers"] for c in b["classes"]) > b["full_time_teachers"]:
            errs.append("%s: class teachers exceed full_time_teachers" % where)
        if sum(c["caregivers"] for c in b["classes"]) > b["caregivers"]:
            errs.append("%s: class caregivers exceed caregivers" % where)
        if b["staff_total"] < b["full_time_teachers"] + b["caregivers"]:
            errs.append("%s: staff_total below teachers + caregivers" % where)
        if not 3 <= len(b["classes"]) <= 12:
            errs.append("%s: %d classes" % (where, len(b["classes"])))
    elif t == "compulsory.census":
        need_inst(b["institution_id"], COMPULSORY)
        if b["migrant_students"] > b["students"]:
            errs.append("%s: migrant_students > students" % where)
        if sum(c["students"] for c in b["classes"]) != b["students"]:
            errs.append("%s: students != sum of classes" % where)
        if any(not 1 <= c["grade"] <= 9 for c in b["classes"]):
            errs.append("%s: grade outside 1-9" % where)
    elif t == "special.population":
        if b["enrolled"] > b["disabled_school_age"] or b["home_delivered"] > b["disabled_school_age"]:
            errs.append("%s: enrolled/home_delivered > disabled_school_age" % where)
    elif t == "survey.recognition":
        if b["satisfied"] > b["respondents"]:
            errs.append("%s: satisfied > respondents" % where)
    elif t == "project.progress":
        if b["seats_delivered"] > b["seats_planned"]:
            errs.append("%s: seats_delivered > seats_planned" % where)
    elif t == "safety.inventory":
        need_inst(b["institution_id"])
        if b["cameras_linked"] > b["cameras"]:
            errs.append("%s: cameras_linked > cameras" % where)
        for d in b["alarm_devices"]:
            if d in devices:
                errs.append("%s: device %s listed twice" % (where, d))
            devices[d] = b["institution_id"]
    elif t == "safety.heartbeat":
        need_inst(b["institution_id"])
        if b["device_kind"] == "alarm" and devices.get(b["device_id"]) != b["institution_id"]:
            errs.append("%s: device %s not in that institution's inventory" % (where, b["device_id"]))


def pct(n, d):
    return "%6.2f %%" % (100.0 * n / d) if d else "   n/a  "


def summary(counts, by_type, towns, insts):
    print("OK: every line parses, fields and types match SPEC section 3, references resolve in order.")
    print()
    print("records per type:")
    for t in SCHEMA:
        print("  %-22s %5d" % (t, counts.get(t, 0)))
    levels = {}
    for i in insts.values():
        key = i["level"] + ("/" + i["ownership"] if i["level"] == "kindergarten" else "")
        levels[key] = levels.get(key, 0) + 1
    print("institutions: " + ", ".join("%s %d" % kv for kv in sorted(levels.items())))
    central = {i["town_id"] for i in insts.values() if i.get("town_central")}
    print("towns without a town_central kindergarten: %s" % (", ".join(sorted(set(towns) - central)) or "none"))
    print()
    pop = {}
    for b in by_type["population.cohort"]:
        pop[b["year"]] = pop.get(b["year"], 0) + b["age_3"] + b["age_4"] + b["age_5"]
    print("city level        %s" % "  ".join("%10d" % y for y in YEARS))

    def row(label, fn):
        print("%-17s %s" % (label, "  ".join("%10s" % fn(y) for y in YEARS)))

    def kg(y):
        return [b for b in by_type["preschool.census"] if b["year"] == y]

    def kids(y, owns=None):
        return sum(c["children"] for b in kg(y) for c in b["classes"]
                   if owns is None or insts[b["institution_id"]]["ownership"] in owns)

    def ratio(y, f):
        return "%.2f" % (kids(y) / float(sum(f(b) for b in kg(y))))

    def classes(y):
        return [c for b in kg(y) for c in b["classes"]]

    row("residents 3-5", lambda y: pop[y])
    row("children in kg", kids)
    row("gross enrolment", lambda y: pct(kids(y), pop[y]).strip())
    row("inclusive cover", lambda y: pct(kids(y, ("public", "inclusive_private")), kids(y)).strip())
    row("public share", lambda y: pct(kids(y, ("public",)), kids(y)).strip())
    row("children/teacher", lambda y: ratio(y, lambda b: b["full_time_teachers"]))
    row("children/staff", lambda y: ratio(y, lambda b: b["staff_total"]))
    row("children/carer", lambda y: ratio(y, lambda b: b["full_time_teachers"] + b["caregivers"]))
    row("class size ok", lambda y: pct(sum(c["children"] <= CLASS_LIMIT[c["level"]] for c in classes(y)), len(classes(y))).strip())
    row("two teach+1 carer", lambda y: pct(sum(c["teachers"] >= 2 and c["caregivers"] >= 1 for c in classes(y)), len(classes(y))).strip())
    row("certified", lambda y: pct(sum(b["certified_teachers"] for b in kg(y)), sum(b["full_time_teachers"] for b in kg(y))).strip())
    sp = {b["year"]: b for b in by_type["special.population"]}
    row("disabled in kg", lambda y: pct(sum(b["disabled_children_certified"] for b in kg(y)), sp[y]["disabled_preschool_age_certified"]).strip())

    def cs(y):
        return [b for b in by_type["compulsory.census"] if b["year"] == y
                and insts[b["institution_id"]]["level"] != "special"]
    row("compulsory pupils", lambda y: sum(b["students"] for b in cs(y)))
    row("private share", lambda y: pct(sum(b["students"] for b in cs(y) if insts[b["institution_id"]]["ownership"] == "private"), sum(b["students"] for b in cs(y))).strip())
    row("migrant in public", lambda y: pct(sum(b["migrant_students"] for b in cs(y) if insts[b["institution_id"]]["ownership"] == "public"), sum(b["migrant_students"] for b in cs(y))).strip())
    row("classes >= 56", lambda y: sum(c["students"] >= 56 for b in cs(y) for c in b["classes"]))
    rt = {b["year"]: b for b in by_type["compulsory.retention"]}
    row("retention", lambda y: pct(rt[y]["grade9_students"], rt[y]["cohort_entrants"]).strip())
    row("special enrolled", lambda y: pct(sp[y]["enrolled"], sp[y]["disabled_school_age"]).strip())
    row("home delivered", lambda y: pct(sp[y]["home_delivered"], sp[y]["disabled_school_age"]).strip())
    fi = {b["year"]: b for b in by_type["finance.year"]}
    row("preschool share", lambda y: pct(fi[y]["preschool_fiscal_wan"], fi[y]["education_fiscal_wan"]).strip())
    row("spend/child yuan", lambda y: "%.0f" % (fi[y]["preschool_fiscal_wan"] * 10000.0 / kids(y)))
    sv = {b["year"]: b for b in by_type["survey.recognition"]}
    row("recognition", lambda y: pct(sv[y]["satisfied"], sv[y]["respondents"]).strip())
    print()
    pr = by_type["project.progress"]
    for kind in ("kindergarten", "primary", "junior"):
        ps = [p for p in pr if p["kind"] == kind]
        print("projects %-12s %d (%d done), seats planned %d, delivered %d" % (
            kind, len(ps), sum(p["status"] == "done" for p in ps),
            sum(p["seats_planned"] for p in ps), sum(p["seats_delivered"] for p in ps)))
    inv = {b["institution_id"]: b for b in by_type["safety.inventory"]}
    kgs = [i for i in insts if insts[i]["level"] == "kindergarten"]
    print("safety: %d kindergartens, %d inventories (unreported: %s)" % (
        len(kgs), len(inv), ", ".join(sorted(set(kgs) - set(inv)))))
    rates = (("alarm installed", lambda b: bool(b["alarm_devices"])),
             ("police linked", lambda b: b["cctv_police_linked"]),
             ("closed mgmt", lambda b: b["closed_management"]),
             ("guards", lambda b: b["guards_full_time"] >= max(b["guards_required"], 1)))
    for label, ok in rates:
        bad = sorted(i for i in kgs if i in inv and not ok(inv[i]))
        print("  %-16s %s  non-compliant: %s" % (label, pct(sum(1 for i in kgs if i in inv and ok(inv[i])), len(kgs)),
                                                  ", ".join(bad) or "-"))
    hb = by_type["safety.heartbeat"]
    print("heartbeats: %d alarm devices, %d fault (%s)" % (
        len(hb), sum(h["status"] == "fault" for h in hb), ", ".join(h["device_id"] for h in hb if h["status"] == "fault")))


def main(argv):
    args = argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if args and args[0] == "--check":
        return check(args[1] if len(args) > 1 else DEFAULT_DIR)
    write(args[0] if args else DEFAULT_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
