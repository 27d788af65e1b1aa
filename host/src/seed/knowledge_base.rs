//! The demo tenant's knowledge base: bilingual FAQ articles that `faq-autoreply` links
//! to when no configured entry matches a new ticket.

use crate::domain::knowledge_base::ArticleStatus;
use crate::service::Core;
use crate::service::knowledge_base::{self, ArticleInput};

/// (title, category, tags, body, status)
const ARTICLES: [(&str, &str, &[&str], &str, ArticleStatus); 6] = [
    (
        "刹车异响或踏板发软怎么办 Brake noise or a soft brake pedal",
        "brakes",
        &["刹车", "制动", "brake", "safety"],
        "如果刹车踏板发软、行程变长或制动距离明显变长，请立即减速靠边停车，不要继续驾驶，\
         并拨打救援热线由服务站拖车检查。\n\n\
         刹车时发出尖锐的金属声通常说明刹车片已磨损到极限，请尽快到店更换；\
         雨后首次制动的轻微异响属正常现象。\n\n\
         A soft or sinking brake pedal is a safety risk: pull over safely, stop driving and \
         call roadside assistance. A high-pitched squeal when braking usually means the pads \
         are worn to their indicators; book a brake inspection as soon as possible.",
        ArticleStatus::Published,
    ),
    (
        "家用充电桩无法充电 EV charging problems",
        "ev-charging",
        &["充电", "充电桩", "charging", "wallbox"],
        "充电枪插上后指示灯闪红或车辆无法充电时：\n\
         1. 确认充电桩电源和漏电保护开关已打开；\n\
         2. 拔下充电枪，等待 30 秒后重新插入，并确认车辆已解锁；\n\
         3. 在车机或 App 中检查是否设置了预约充电。\n\n\
         If the charger's light blinks red or the car does not charge: check the wallbox \
         breaker, re-plug the connector after 30 seconds with the car unlocked, and make sure \
         no charging schedule is set in the app. If it still fails, note the error code on the \
         wallbox and contact us.",
        ArticleStatus::Published,
    ),
    (
        "如何预约保养 Booking maintenance",
        "maintenance",
        &["保养", "预约", "maintenance", "service booking"],
        "您可以在 App 的「服务」页面选择门店、日期和时段预约保养，也可以致电服务站。\
         常规保养间隔为每 1 万公里或 12 个月，以先到者为准。\n\n\
         Book maintenance in the app under Service: pick a dealer, a day and a time slot, or \
         call the service station. Regular service is due every 10,000 km or 12 months, \
         whichever comes first.",
        ArticleStatus::Published,
    ),
    (
        "CarPlay 或蓝牙连接断开 CarPlay and Bluetooth disconnects",
        "infotainment",
        &["carplay", "蓝牙", "bluetooth", "车机"],
        "CarPlay 或蓝牙频繁断开时，请先将车机升级到最新版本，然后在手机和车机上删除配对记录并重新配对；\
         使用原装数据线也能减少断连。\n\n\
         If Apple CarPlay or Bluetooth keeps dropping: update the head unit to the latest \
         firmware, forget the pairing on both the phone and the car, then pair again. A certified \
         cable helps with wired CarPlay.",
        ArticleStatus::Published,
    ),
    (
        "整车与三电保修政策 Warranty coverage",
        "warranty",
        &["保修", "质保", "warranty"],
        "整车保修期为 3 年或 10 万公里，动力电池、电机和电控（三电）保修期为 8 年或 16 万公里，\
         以先到者为准。保修期内非人为损坏的故障可免费维修，请携带行驶证到授权服务站。\n\n\
         The vehicle is covered for 3 years or 100,000 km, and the battery, motor and \
         power electronics for 8 years or 160,000 km, whichever comes first. Bring the vehicle \
         licence to an authorised service station.",
        ArticleStatus::Published,
    ),
    (
        "冬季续航下降说明（草稿）Winter range (draft)",
        "ev-charging",
        &["续航", "range"],
        "低温会降低电池可用容量，草稿待技术部门确认。",
        ArticleStatus::Draft,
    ),
];

/// Creates the demo articles.
pub async fn seed(core: &Core, tenant_id: &str) -> anyhow::Result<()> {
    for (title, category, tags, body, status) in ARTICLES {
        knowledge_base::create(
            &core.db,
            tenant_id,
            ArticleInput {
                title: Some(title.to_owned()),
                body: Some(body.to_owned()),
                category: Some(category.to_owned()),
                tags: Some(tags.iter().map(|tag| (*tag).to_owned()).collect()),
                status: Some(status.as_str().to_owned()),
            },
        )
        .await?;
    }
    Ok(())
}
