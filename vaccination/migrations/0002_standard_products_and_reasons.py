"""The standard COVID-19 vaccine products and the reasons for not being vaccinated (data; an
administrator may change them on the products and reasons pages). Sources in docs/vaccination.md."""

from django.db import migrations

# code, name, manufacturer, kind, course doses, min interval (days), booster needed, booster interval (days)
PRODUCTS = [
    ("bibp", "新冠病毒灭活疫苗（Vero细胞）", "国药集团北京生物", "inactivated", 2, 21, True, 90),
    ("wibp", "新冠病毒灭活疫苗（Vero细胞）", "国药集团武汉生物", "inactivated", 2, 21, True, 90),
    ("sinovac", "新冠病毒灭活疫苗（Vero细胞）", "北京科兴中维", "inactivated", 2, 21, True, 90),
    ("zf2001", "重组新冠病毒疫苗（CHO细胞）", "安徽智飞龙科马", "recombinant_protein", 3, 28, False, 90),
    ("ad5", "重组新冠病毒疫苗（5型腺病毒载体）", "康希诺生物", "adenovirus_vector", 1, 0, True, 90),
]
# code, name, absent (not among the group's 现有人口)
REASONS = [
    ("contraindication", "禁忌症", False),
    ("recombinant_no_booster", "接种重组蛋白疫苗无需加强", False),
    ("refused", "拒绝接种", False),
    ("away", "外出", True),
    ("lost", "失联", True),
    ("deceased", "死亡", True),
    ("other", "其他", False),
]


def seed(apps, schema_editor):
    product = apps.get_model("vaccination", "VaccineProduct")
    reason = apps.get_model("vaccination", "NonVaccinationReason")
    for code, name, maker, kind, doses, interval, booster, booster_days in PRODUCTS:
        product.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "manufacturer": maker,
                "kind": kind,
                "course_doses": doses,
                "min_interval_days": interval,
                "booster_needed": booster,
                "booster_interval_days": booster_days,
            },
        )
    for code, name, absent in REASONS:
        reason.objects.get_or_create(code=code, defaults={"name": name, "absent": absent})


class Migration(migrations.Migration):
    dependencies = [("vaccination", "0001_doses_reasons_products")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
