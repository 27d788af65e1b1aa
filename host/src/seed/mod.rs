//! The demo tenant: an OEM hotline with customers across three regions, their vehicles
//! (VINs with valid check digits), the example plugins installed, and tickets that went
//! through them.

mod dashboards;
mod history;
mod knowledge_base;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::domain::org::Site;
use crate::domain::records::{Role, TicketChannel};
use crate::runtime::manifest::Manifest;
use crate::service::access::Access;
use crate::service::customers::{self, CustomerBody};
use crate::service::plugins::{self, InstallRequest};
use crate::service::tenants::{self, NewKey, NewTenant};
use crate::service::tickets::{self, Actor, NewTicket};
use crate::service::vehicles::{self, VehicleBody};
use crate::service::{Core, ServiceError};
use axle_vin::Vin;

/// The demo tenant's slug.
pub const DEMO_SLUG: &str = "demo";

/// What the seed left behind.
pub struct Seeded {
    pub tenant_id: String,
    pub api_key: String,
    pub created: bool,
    pub plugins: Vec<String>,
    /// A dealer with a plugin of its own: its code and an admin key of its subtree.
    pub dealer: Option<(String, String)>,
}

impl Seeded {
    /// Prints how to reach the demo.
    pub fn print(&self, addr: Option<SocketAddr>) {
        if let Some(addr) = addr {
            println!();
            println!("Axle demo is serving on http://{addr}");
        }
        println!(
            "Demo tenant `{DEMO_SLUG}` ({}){}",
            self.tenant_id,
            if self.created { ", freshly seeded" } else { "" }
        );
        println!("Installed plugins: {}", self.plugins.join(", "));
        println!("Admin API key for the demo tenant:");
        println!("  export AXLE_KEY={}", self.api_key);
        if let Some(addr) = addr {
            println!("  export AXLE_URL=http://{addr}");
        }
        if let Some((code, key)) = &self.dealer {
            println!(
                "Admin API key of dealer {code} (its subtree only; it runs its own vip-routing from the OEM's dealer catalogue):"
            );
            println!("  export AXLE_DEALER_KEY={key}");
        }
    }
}

/// A dealer: code, name, and the city names (Chinese, English) its first station serves.
type DemoDealer = (&'static str, &'static str, [&'static str; 2]);

/// Regions with their dealers: (code, name, dealers).
const ORG: [(&str, &str, [DemoDealer; 4]); 3] = [
    (
        "EC",
        "华东大区 East China",
        [
            ("SH-001", "上海浦东 4S 店", ["上海", "Shanghai"]),
            ("HZ-002", "杭州西湖 4S 店", ["杭州", "Hangzhou"]),
            ("NJ-003", "南京鼓楼 4S 店", ["南京", "Nanjing"]),
            ("SZ-004", "苏州工业园 4S 店", ["苏州", "Suzhou"]),
        ],
    ),
    (
        "NC",
        "华北大区 North China",
        [
            ("BJ-101", "北京朝阳 4S 店", ["北京", "Beijing"]),
            ("TJ-102", "天津滨海 4S 店", ["天津", "Tianjin"]),
            ("SJZ-103", "石家庄 4S 店", ["石家庄", "Shijiazhuang"]),
            ("QD-104", "青岛 4S 店", ["青岛", "Qingdao"]),
        ],
    ),
    (
        "SC",
        "华南大区 South China",
        [
            ("GZ-201", "广州天河 4S 店", ["广州", "Guangzhou"]),
            ("SZN-202", "深圳南山 4S 店", ["深圳", "Shenzhen"]),
            ("XM-203", "厦门思明 4S 店", ["厦门", "Xiamen"]),
            ("FS-204", "佛山 4S 店", ["佛山", "Foshan"]),
        ],
    ),
];

/// Teams at every station: (name, skills).
const TEAMS: [(&str, &[&str]); 2] = [
    (
        "机电组 Mechanical",
        &[
            "powertrain",
            "brakes",
            "safety",
            "maintenance",
            "warranty",
            "recall",
        ],
    ),
    ("电气组 Electrical", &["electrical", "ev", "infotainment"]),
];

/// Builds 1 OEM, 3 regions, 12 dealers and 30 stations (the first six dealers run three
/// stations, the rest two), each station with its teams and their managers.
async fn seed_org(core: &Core, tenant_id: &str) -> anyhow::Result<()> {
    use crate::domain::hours::OpeningHours;
    use crate::domain::org::{AgentRole, SiteKind};
    use crate::service::org::{self, AgentBody, SiteBody, TeamBody};
    let access = Access::tenant(tenant_id);
    let hours: OpeningHours = serde_json::from_value(serde_json::json!({
        "mon": ["08:30-18:00"], "tue": ["08:30-18:00"], "wed": ["08:30-18:00"], "thu": ["08:30-18:00"],
        "fri": ["08:30-18:00"], "sat": ["09:00-17:00"]
    }))?;
    let site = |parent: Option<&Site>, kind, code: &str, name: &str, area: Vec<String>| SiteBody {
        parent_id: parent.map(|parent| parent.id.clone()),
        kind,
        code: code.to_owned(),
        name: name.to_owned(),
        service_area: area,
        opening_hours: hours.clone(),
        timezone: Some("Asia/Shanghai".to_owned()),
    };
    let oem = org::create_site(
        core,
        access,
        site(None, SiteKind::Oem, "OEM", "演示汽车 Demo Motors", vec![]),
    )
    .await?;
    let mut dealer_index = 0;
    for (region_code, region_name, dealers) in ORG {
        let body = site(
            Some(&oem),
            SiteKind::Region,
            region_code,
            region_name,
            vec![],
        );
        let region = org::create_site(core, access, body).await?;
        for (dealer_code, dealer_name, cities) in dealers {
            let area: Vec<String> = cities.iter().map(|c| (*c).to_owned()).collect();
            let body = site(
                Some(&region),
                SiteKind::Dealer,
                dealer_code,
                dealer_name,
                area.clone(),
            );
            let dealer = org::create_site(core, access, body).await?;
            let stations = if dealer_index < 6 { 3 } else { 2 };
            dealer_index += 1;
            for number in 1..=stations {
                let code = format!("{dealer_code}-S{number}");
                let name = format!("{} {number} 号服务站", cities[0]);
                // The first station covers the whole city; the others take walk-ins only.
                let station_area = if number == 1 { area.clone() } else { vec![] };
                let body = site(Some(&dealer), SiteKind::Station, &code, &name, station_area);
                let station = org::create_site(core, access, body).await?;
                for (team_index, (team_name, skills)) in TEAMS.iter().enumerate() {
                    let team = TeamBody {
                        site_id: station.id.clone(),
                        name: (*team_name).to_owned(),
                        skills: skills.iter().map(|s| (*s).to_owned()).collect(),
                    };
                    let team = org::create_team(core, access, team).await?;
                    let manager = AgentBody {
                        team_id: team.id,
                        name: format!("{code} 经理 {}", team_index + 1),
                        email: Some(format!(
                            "{}.manager{}@dealer.example.cn",
                            code.to_lowercase(),
                            team_index + 1
                        )),
                        phone: Some(format!(
                            "+86139{:04}{:04}",
                            dealer_index * 10 + number,
                            team_index + 1
                        )),
                        role: AgentRole::Manager,
                    };
                    org::create_agent(core, access, manager).await?;
                }
            }
        }
    }
    Ok(())
}

/// Region → the regional service manager's phone (for safety-escalation).
const REGIONS: [(&str, &str); 3] = [
    ("East China", "+8613800000001"),
    ("North China", "+8613800000002"),
    ("South China", "+8613800000003"),
];

/// (name, phone, region, city, vip)
const CUSTOMERS: [(&str, &str, &str, &str, bool); 12] = [
    ("张伟", "+8613912345601", "East China", "上海", true),
    ("李娜", "+8613912345602", "East China", "杭州", false),
    ("王芳", "+8613912345603", "North China", "北京", false),
    ("刘洋", "+8613912345604", "North China", "天津", true),
    ("陈静", "+8613912345605", "South China", "广州", false),
    ("杨磊", "+8613912345606", "South China", "深圳", false),
    ("Li Wei", "+8613912345607", "East China", "Suzhou", false),
    (
        "Zhao Min",
        "+8613912345608",
        "North China",
        "Shijiazhuang",
        false,
    ),
    (
        "Emily Chen",
        "+8613912345609",
        "South China",
        "Shenzhen",
        true,
    ),
    ("黄强", "+8613912345610", "East China", "南京", false),
    ("周敏", "+8613912345611", "South China", "厦门", false),
    ("Wu Jun", "+8613912345612", "North China", "Qingdao", false),
];

/// The plate of each demo vehicle, from its owner's city, in the spellings agents type.
const PLATES: [&str; 12] = [
    "沪A·D12345",
    "浙A-3K721",
    "京N 8A816",
    "津C·52019",
    "粤A·F66201",
    "粤B D88123",
    "苏E-7U2Q9",
    "冀A·3M055",
    "粤B·70312",
    "苏A·D09871",
    "闽D-5G213",
    "鲁B·9R666",
];

/// (VIN stem without a valid check digit, make, model, year)
const VEHICLES: [(&str, &str, &str, i64); 12] = [
    ("LSVAX4100N2000101", "SAIC Volkswagen", "Lavida", 2022),
    ("LFV2A2150P3000102", "FAW-Volkswagen", "Sagitar", 2023),
    ("LGXC76C00P0000103", "BYD", "Han EV", 2023),
    ("LB37622Z0N1000104", "Geely", "Xingyue L", 2022),
    ("LRW3E7FA0PC000105", "Tesla", "Model 3", 2023),
    ("LGWEF4A50NF000106", "Great Wall", "Haval H6", 2022),
    ("LSVUZ6000R2000107", "SAIC Volkswagen", "ID.4 X", 2024),
    ("LGXC16DF0R0000108", "BYD", "Seal", 2024),
    ("LB37852Z0P1000109", "Geely", "Galaxy L7", 2023),
    ("LFV3B2FY0R3000110", "FAW-Volkswagen", "ID.6 CROZZ", 2024),
    ("LGWFF7A50PJ000111", "Great Wall", "Tank 300", 2023),
    ("LRWYG7EK0RC000112", "Tesla", "Model Y", 2024),
];

/// (customer index, category, channel, subject, description)
const TICKETS: [(usize, &str, TicketChannel, &str, &str); 10] = [
    (
        0,
        "powertrain",
        TicketChannel::Phone,
        "刹车踏板发软",
        "客户来电：高速行驶时刹车踏板发软，制动距离变长。",
    ),
    (
        1,
        "ev-charging",
        TicketChannel::App,
        "家用充电桩无法充电",
        "充电枪插上后指示灯闪红，车辆无法充电。",
    ),
    (
        2,
        "infotainment",
        TicketChannel::Phone,
        "CarPlay disconnects",
        "Apple CarPlay drops every few minutes since the last OTA update.",
    ),
    (
        3,
        "maintenance",
        TicketChannel::Web,
        "预约保养",
        "想预约 3 万公里保养，周六上午。",
    ),
    (
        4,
        "safety",
        TicketChannel::Phone,
        "Airbag warning light",
        "The airbag warning light stays on after starting the car.",
    ),
    (
        5,
        "electrical",
        TicketChannel::Dealer,
        "12V battery drains overnight",
        "Battery is flat every morning; dealer suspects a parasitic draw.",
    ),
    (
        6,
        "warranty",
        TicketChannel::Email,
        "Warranty claim for rear door seal",
        "Water leaks in through the rear left door seal after rain.",
    ),
    (
        7,
        "powertrain",
        TicketChannel::Phone,
        "发动机故障灯亮",
        "发动机故障灯亮起，加速无力。",
    ),
    (
        8,
        "ev-charging",
        TicketChannel::Chat,
        "Public charger refuses card",
        "The public DC charger refuses the charging card at the mall.",
    ),
    (
        9,
        "recall",
        TicketChannel::Phone,
        "召回通知咨询",
        "收到召回短信，想确认车辆是否在召回范围内。",
    ),
];

fn demo_config(name: &str) -> (serde_json::Value, Vec<crate::domain::plugin::Capability>) {
    use crate::domain::plugin::Capability;
    match name {
        "safety-escalation" => {
            let managers: serde_json::Map<String, serde_json::Value> = REGIONS
                .iter()
                .map(|(region, phone)| ((*region).to_owned(), serde_json::json!(phone)))
                .collect();
            (
                serde_json::json!({ "managers": managers, "default_manager": "+8613800000000" }),
                vec![Capability::Notify],
            )
        }
        "vip-routing" => (
            serde_json::json!({ "team": "vip-care" }),
            vec![Capability::Records],
        ),
        "station-routing" => (
            serde_json::json!({
                "skills": { "ev-charging": "ev", "battery": "ev", "maintenance-booking": "maintenance" }
            }),
            vec![Capability::Directory],
        ),
        // Recall questions get a fixed answer; everything else is answered from the demo
        // knowledge base (seed/knowledge_base.rs) through the records grant.
        "faq-autoreply" => (
            serde_json::json!({
                "entries": [
                    { "keywords": ["召回", "recall"], "answer": "召回范围请在官网输入 VIN 查询，我们也会短信通知受影响车主。Check recall coverage by VIN on our website; affected owners are notified by SMS." }
                ],
                "search_knowledge_base": true
            }),
            vec![Capability::Records],
        ),
        _ => (serde_json::json!({}), vec![]),
    }
}

/// The plugin source directories under `plugins_dir` (those with a `plugin.toml`), sorted.
pub fn plugin_dirs(plugins_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs: Vec<_> = std::fs::read_dir(plugins_dir)
        .with_context(|| format!("reading the plugins directory {}", plugins_dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("plugin.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Where the build puts the component of the plugin called `name`.
pub fn component_file(wasm_dir: &Path, name: &str) -> PathBuf {
    wasm_dir.join(format!("axle_plugin_{}.wasm", name.replace('-', "_")))
}

/// Uploads and installs every plugin found under `plugins_dir` whose component was built.
async fn install_plugins(
    core: &Core,
    tenant_id: &str,
    plugins_dir: &Path,
    wasm_dir: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut installed = Vec::new();
    for dir in plugin_dirs(plugins_dir)? {
        let manifest_text = std::fs::read_to_string(dir.join("plugin.toml"))?;
        let manifest = Manifest::parse(&manifest_text)
            .with_context(|| format!("{}/plugin.toml", dir.display()))?;
        let wasm = component_file(wasm_dir, &manifest.name);
        let bytes = std::fs::read(&wasm).with_context(|| {
            format!(
                "reading {} (build the plugins first: cargo xtask demo does)",
                wasm.display()
            )
        })?;
        plugins::upload(core, tenant_id, &manifest_text, bytes)
            .await
            .with_context(|| format!("uploading {}", manifest.label()))?;
        let (config, capabilities) = demo_config(&manifest.name);
        let request = InstallRequest {
            plugin: manifest.name.clone(),
            version: Some(manifest.version.to_string()),
            config: Some(config),
            capabilities,
            // Rules run in ascending order and the first to name a team wins: the VIP team
            // (run order 100) goes before the station's skilled team.
            run_order: (manifest.name == "station-routing").then_some(200),
            // The OEM's safety rule is one no dealer may opt out of.
            mandatory: Some(manifest.name == "safety-escalation"),
            ..Default::default()
        };
        match plugins::install(core, Access::tenant(tenant_id), request).await {
            Ok(_) | Err(crate::service::ServiceError::Conflict(_)) => {
                installed.push(manifest.label())
            }
            Err(err) => {
                return Err(err).with_context(|| format!("installing {}", manifest.label()));
            }
        }
    }
    Ok(installed)
}

/// Creates the demo tenant if needed, installs the plugins, seeds records and tickets
/// once, and returns a fresh admin key.
pub async fn demo(core: &Core, plugins_dir: &Path, wasm_dir: &Path) -> anyhow::Result<Seeded> {
    // A new tenant comes with its first admin key, which the demo hands out; a demo
    // started again gets a fresh key of its own, as the secrets are never shown twice.
    let (tenant, api_key, created) = match tenants::by_slug(core, DEMO_SLUG).await {
        Ok(tenant) => {
            let console = NewKey {
                name: "demo console".to_owned(),
                role: Role::Admin,
                site_id: None,
            };
            let made = tenants::create_key(core, Access::tenant(&tenant.id), console).await?;
            (tenant, made.secret, false)
        }
        Err(ServiceError::NotFound(_)) => {
            let demo = NewTenant {
                name: "Demo OEM After-Sales Hotline 演示主机厂售后热线".to_owned(),
                slug: DEMO_SLUG.to_owned(),
            };
            let (tenant, made) = tenants::create(core, demo).await?;
            (tenant, made.secret, true)
        }
        Err(err) => return Err(err.into()),
    };
    let installed = install_plugins(core, &tenant.id, plugins_dir, wasm_dir).await?;
    if created {
        seed_org(core, &tenant.id).await?;
        knowledge_base::seed(core, &tenant.id).await?;
        seed_records(core, &tenant.id).await?;
        history::seed(core, &tenant.id).await?;
    }
    dashboards::seed(core, &tenant.id).await?;
    let dealer = seed_dealer_plugin(core, &tenant.id).await?;
    Ok(Seeded {
        tenant_id: tenant.id,
        api_key,
        created,
        plugins: installed,
        dealer,
    })
}

/// The dealer whose admin installs a plugin of its own in the demo.
const DEMO_DEALER: &str = "SH-001";

/// The OEM offers vip-routing to its dealers, and the Shanghai dealer's admin installs it
/// for its own stations with its own VIP desk, through the same policy checks a dealer's
/// key meets over HTTP, in place of the OEM's own vip-routing there. Returns the dealer's code and a fresh admin key of its subtree.
async fn seed_dealer_plugin(
    core: &Core,
    tenant_id: &str,
) -> anyhow::Result<Option<(String, String)>> {
    use crate::domain::org::SiteKind;
    use crate::domain::page::Page;
    use crate::service::access::Subtree;
    use crate::service::dealer_policy::{self, CatalogueRequest};
    use crate::store::org::{self, SiteFilter};
    let filter = SiteFilter {
        kind: Some(SiteKind::Dealer),
        ..SiteFilter::default()
    };
    let page = Page {
        limit: 200,
        cursor: None,
    };
    let dealers = org::list_sites(&core.db, tenant_id, &filter, &page).await?;
    let Some(dealer) = dealers
        .items
        .into_iter()
        .find(|site| site.code == DEMO_DEALER)
    else {
        return Ok(None);
    };
    let (_, capabilities) = demo_config("vip-routing");
    let offer = CatalogueRequest {
        capabilities: capabilities.clone(),
        ..CatalogueRequest::default()
    };
    match dealer_policy::publish(core, tenant_id, "vip-routing", offer).await {
        Ok(_) => {}
        // The plugin was not built into this demo: nothing to offer.
        Err(ServiceError::NotFound(_)) => return Ok(None),
        Err(err) => return Err(err).context("offering vip-routing to dealers"),
    }
    let subtree = Subtree {
        site_id: dealer.id.clone(),
        path: dealer.path.clone(),
    };
    let access = Access {
        tenant_id,
        subtree: Some(&subtree),
    };
    let request = InstallRequest {
        plugin: "vip-routing".to_owned(),
        config: Some(serde_json::json!({ "team": "浦东 VIP 专席 Pudong VIP desk" })),
        capabilities,
        ..Default::default()
    };
    match plugins::install(core, access, request).await {
        Ok(_) | Err(ServiceError::Conflict(_)) => {}
        Err(err) => return Err(err).context("installing the dealer's vip-routing"),
    }
    // Its own rule replaces the OEM's for its stations: the OEM's runs first and would
    // name its team first, so the dealer opts its subtree out of it (it is not mandatory).
    let oems = crate::store::installations::list(
        &core.db,
        tenant_id,
        &crate::domain::installations::InstallationFilter {
            plugin: Some("vip-routing".to_owned()),
            scope: Some(crate::domain::installations::ScopeFilter::Tenant),
            ..Default::default()
        },
        &page,
    )
    .await?;
    for oem in oems.items {
        dealer_policy::opt_out(core, access, &oem.id, &dealer.id)
            .await
            .context("opting the dealer out of the OEM's vip-routing")?;
    }
    let key = NewKey {
        name: format!("{DEMO_DEALER} dealer admin"),
        role: Role::Admin,
        site_id: Some(dealer.id.clone()),
    };
    let made = tenants::create_key(core, Access::tenant(tenant_id), key).await?;
    Ok(Some((dealer.code, made.secret)))
}

async fn seed_records(core: &Core, tenant_id: &str) -> anyhow::Result<()> {
    let mut customer_ids = Vec::new();
    let mut vehicle_ids = Vec::new();
    for (index, (name, phone, region, city, vip)) in CUSTOMERS.iter().enumerate() {
        let customer = CustomerBody {
            name: (*name).to_owned(),
            phone: Some((*phone).to_owned()),
            email: (index % 3 == 0).then(|| format!("customer{index}@example.cn")),
            region: Some((*region).to_owned()),
            city: Some((*city).to_owned()),
            vip: *vip,
            ..Default::default()
        };
        let customer = customers::create(core, tenant_id, customer).await?;
        let (stem, make, model, year) = VEHICLES[index];
        let vin = Vin::with_check_digit(stem).with_context(|| format!("demo VIN stem {stem}"))?;
        let vehicle = VehicleBody {
            vin: vin.as_str().to_owned(),
            plate: Some(PLATES[index].to_owned()),
            customer_id: Some(customer.id.clone()),
            make: Some(make.to_owned()),
            model: Some(model.to_owned()),
            model_year: Some(year),
            mileage_km: Some(8_000 + 3_500 * index as i64),
            ..Default::default()
        };
        let vehicle = vehicles::create(core, tenant_id, vehicle).await?;
        customer_ids.push(customer.id);
        vehicle_ids.push(vehicle.id);
    }
    let actor = Actor("system".to_owned());
    for (customer, category, channel, subject, description) in TICKETS {
        tickets::create(
            core,
            tenant_id,
            &actor,
            NewTicket {
                subject: Some(subject.to_owned()),
                description: description.to_owned(),
                category: Some(category.to_owned()),
                channel: Some(channel),
                customer_id: Some(customer_ids[customer].clone()),
                vehicle_id: Some(vehicle_ids[customer].clone()),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
