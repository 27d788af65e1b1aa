//! The knowledge base: FAQ articles per tenant, text search in Chinese and English, the
//! public article page, and `faq-autoreply` linking a real article through `records`.

use axle_tests::{
    FAQ_AUTOREPLY, PUBLIC_URL, Tenant, TestApp, agent_key, field_message, ids, invalid_fields, tags,
};
use serde_json::{Value, json};

const ARTICLES: &str = "/api/v1/kb/articles";

async fn article(app: &TestApp, tenant: &Tenant, body: Value) -> Value {
    app.post(&tenant.key, ARTICLES, &body).await.expect(201)
}

async fn published(app: &TestApp, tenant: &Tenant, title: &str, body: &str) -> Value {
    article(
        app,
        tenant,
        json!({ "title": title, "body": body, "status": "published" }),
    )
    .await
}

async fn search(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let path = format!("{ARTICLES}?q={}", encoded(query));
    let body = app.get(key, &path).await.expect(200);
    body["items"].as_array().expect("items").clone()
}

/// `text` percent-encoded for a query string.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The path of an article's public URL on the test node.
fn public_path(url: &Value) -> String {
    url.as_str()
        .and_then(|url| url.strip_prefix(PUBLIC_URL))
        .unwrap_or_else(|| panic!("{url} starts with {PUBLIC_URL}"))
        .to_owned()
}

fn html(page: &Value) -> &str {
    page.as_str().expect("an HTML page")
}

/// The `reply` events on a ticket's timeline.
async fn replies(app: &TestApp, tenant: &Tenant, ticket: &Value) -> Vec<Value> {
    app.timeline(tenant, ticket["id"].as_str().unwrap())
        .await
        .into_iter()
        .filter(|event| event["kind"] == "reply")
        .collect()
}

/// faq-autoreply with no entries, answering from the knowledge base only.
async fn install_kb_autoreply(app: &TestApp, tenant: &Tenant) {
    app.install(
        tenant,
        &FAQ_AUTOREPLY,
        json!({ "entries": [] }),
        &["records"],
    )
    .await;
}

#[tokio::test]
async fn admin_creates_lists_updates_and_deletes_articles() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb").await;

    let created = article(
        &app,
        &tenant,
        json!({ "title": "  保养预约 Booking maintenance ", "body": "在 App 中预约保养。", "category": "maintenance", "tags": ["保养", " booking ", "保养"] }),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["title"], "保养预约 Booking maintenance");
    assert_eq!(created["status"], "draft", "new articles are drafts");
    assert_eq!(created["tags"], json!(["保养", "booking"]));
    assert_eq!(created["url"], format!("{PUBLIC_URL}/kb/{id}"));
    let other = published(&app, &tenant, "Warranty", "3 years or 100,000 km.").await;

    let fetched = app
        .get(&tenant.key, &format!("{ARTICLES}/{id}"))
        .await
        .expect(200);
    assert_eq!(fetched, created);

    let all = app.get(&tenant.key, ARTICLES).await.expect(200);
    assert_eq!(
        ids(&all),
        [other["id"].as_str().unwrap(), id],
        "newest first"
    );
    let first_page = app
        .get(&tenant.key, &format!("{ARTICLES}?limit=1"))
        .await
        .expect(200);
    assert_eq!(ids(&first_page), [other["id"].as_str().unwrap()]);
    let cursor = first_page["next_cursor"].as_str().expect("a next page");
    let second_page = app
        .get(&tenant.key, &format!("{ARTICLES}?limit=1&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(ids(&second_page), [id]);
    assert_eq!(second_page["next_cursor"], Value::Null);
    let drafts = app
        .get(&tenant.key, &format!("{ARTICLES}?status=draft"))
        .await
        .expect(200);
    assert_eq!(ids(&drafts), [id]);
    let maintenance = app
        .get(&tenant.key, &format!("{ARTICLES}?category=maintenance"))
        .await
        .expect(200);
    assert_eq!(ids(&maintenance), [id]);

    let updated = app
        .patch(
            &tenant.key,
            &format!("{ARTICLES}/{id}"),
            &json!({ "status": "published", "body": "Book in the app under Service." }),
        )
        .await
        .expect(200);
    assert_eq!(updated["status"], "published");
    assert_eq!(
        updated["title"], "保养预约 Booking maintenance",
        "unchanged"
    );
    assert_eq!(updated["body"], "Book in the app under Service.");
    assert_eq!(updated["created_at"], created["created_at"]);
    let found = search(&app, &tenant.key, "service").await;
    assert_eq!(found[0]["id"], id, "search sees the new body");

    app.delete(&tenant.key, &format!("{ARTICLES}/{id}"))
        .await
        .expect(204);
    app.get(&tenant.key, &format!("{ARTICLES}/{id}"))
        .await
        .expect(404);
    app.delete(&tenant.key, &format!("{ARTICLES}/{id}"))
        .await
        .expect(404);
    let left = app.get(&tenant.key, ARTICLES).await.expect(200);
    assert_eq!(ids(&left), [other["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn invalid_articles_are_rejected_per_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb-invalid").await;

    let reply = app
        .post(&tenant.key, ARTICLES, &json!({}))
        .await
        .expect_error(422);
    assert_eq!(invalid_fields(&reply), ["title", "body"]);
    assert!(field_message(&reply, "title").contains("title"));

    let too_long = "刹".repeat(201);
    let reply = app
        .post(
            &tenant.key,
            ARTICLES,
            &json!({ "title": too_long, "body": "  ", "tags": ["ok", " "], "category": "" }),
        )
        .await
        .expect_error(422);
    assert_eq!(
        invalid_fields(&reply),
        ["title", "body", "category", "tags"]
    );
    assert!(
        field_message(&reply, "title").contains("200"),
        "{}",
        field_message(&reply, "title")
    );
    let exactly_200 = "刹".repeat(200);
    let ok = app
        .post(
            &tenant.key,
            ARTICLES,
            &json!({ "title": exactly_200, "body": "正文" }),
        )
        .await
        .expect(201);

    let reply = app
        .post(
            &tenant.key,
            ARTICLES,
            &json!({ "title": "t", "body": "b", "status": "archived" }),
        )
        .await
        .expect_error(422);
    assert_eq!(invalid_fields(&reply), ["status"]);
    assert!(field_message(&reply, "status").contains("published"));
    let reply = app
        .post(
            &tenant.key,
            ARTICLES,
            &json!({ "title": "t", "body": "b", "author": "x" }),
        )
        .await;
    assert_eq!(reply.status, 400, "unknown fields are refused: {reply:?}");
    assert!(reply.error_message().contains("author"), "{reply:?}");

    let id = ok["id"].as_str().unwrap();
    let reply = app
        .patch(
            &tenant.key,
            &format!("{ARTICLES}/{id}"),
            &json!({ "title": " " }),
        )
        .await
        .expect_error(422);
    assert_eq!(invalid_fields(&reply), ["title"]);
    let unchanged = app
        .get(&tenant.key, &format!("{ARTICLES}/{id}"))
        .await
        .expect(200);
    assert_eq!(unchanged["title"], ok["title"]);
    let all = app.get(&tenant.key, ARTICLES).await.expect(200);
    assert_eq!(ids(&all), [id], "only the valid article was written");
}

#[tokio::test]
async fn agents_and_site_scoped_admins_read_but_cannot_write() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb-roles").await;
    let existing = published(&app, &tenant, "Brake noise", "Check the pads.").await;
    let id = existing["id"].as_str().unwrap();
    let (_, agent) = agent_key(&app, &tenant).await;
    let dealer = app
        .post(
            &tenant.key,
            "/api/v1/sites",
            &json!({ "kind": "oem", "code": "OEM", "name": "OEM" }),
        )
        .await
        .expect(201);
    let scoped_admin = app
        .post(
            &tenant.key,
            "/api/v1/api-keys",
            &json!({ "name": "dealer admin", "role": "admin", "site_id": dealer["id"] }),
        )
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    for key in [&agent, &scoped_admin] {
        let reply = app
            .post(key, ARTICLES, &json!({ "title": "t", "body": "b" }))
            .await
            .expect_error(403);
        assert!(reply.error_message().contains("admin"), "{reply:?}");
        app.patch(key, &format!("{ARTICLES}/{id}"), &json!({ "title": "x" }))
            .await
            .expect(403);
        app.delete(key, &format!("{ARTICLES}/{id}"))
            .await
            .expect(403);
        let listed = app.get(key, ARTICLES).await.expect(200);
        assert_eq!(ids(&listed), [id]);
        app.get(key, &format!("{ARTICLES}/{id}")).await.expect(200);
        assert_eq!(search(&app, key, "brake").await[0]["id"], id);
    }
    let kept = app
        .get(&tenant.key, &format!("{ARTICLES}/{id}"))
        .await
        .expect(200);
    assert_eq!(kept["title"], "Brake noise");
}

#[tokio::test]
async fn search_ranks_a_title_hit_above_a_tag_hit_above_a_body_hit() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb-rank").await;
    let in_title = published(&app, &tenant, "Brake squeal", "Worn pads make noise.").await;
    let in_body = published(
        &app,
        &tenant,
        "Strange noises",
        "A squeal when you brake usually means worn pads.",
    )
    .await;
    let in_tag = article(
        &app,
        &tenant,
        json!({ "title": "Pedal feel", "body": "A soft pedal needs a check.", "tags": ["Brakes"], "status": "published" }),
    )
    .await;
    let unrelated = published(&app, &tenant, "Warranty", "Three years of cover.").await;

    let found = search(&app, &tenant.key, "BRAKE").await;
    let found_ids: Vec<&str> = found.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(
        found_ids,
        [
            in_title["id"].as_str().unwrap(),
            in_tag["id"].as_str().unwrap(),
            in_body["id"].as_str().unwrap()
        ]
    );
    assert!(!found_ids.contains(&unrelated["id"].as_str().unwrap()));
    assert!(found[0]["score"].as_u64() > found[1]["score"].as_u64());
    assert!(
        found[2]["excerpt"].as_str().unwrap().contains("brake"),
        "{}",
        found[2]
    );
    assert_eq!(found[0]["url"], in_title["url"]);

    let limited = app
        .get(&tenant.key, &format!("{ARTICLES}?q=brake&limit=1"))
        .await
        .expect(200);
    assert_eq!(ids(&limited), [in_title["id"].as_str().unwrap()]);
    let drafts_only = app
        .get(&tenant.key, &format!("{ARTICLES}?q=brake&status=draft"))
        .await
        .expect(200);
    assert!(ids(&drafts_only).is_empty());
}

#[tokio::test]
async fn chinese_query_finds_the_chinese_article() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb-zh").await;
    let charging = article(
        &app,
        &tenant,
        json!({ "title": "家用充电桩无法充电", "body": "充电枪插上后指示灯闪红时，请先检查漏电保护开关，再重新插枪。", "category": "ev-charging", "tags": ["充电"], "status": "published" }),
    )
    .await;
    published(&app, &tenant, "如何预约保养", "在 App 的服务页面预约保养。").await;
    published(&app, &tenant, "Charging at home", "Check the breaker.").await;

    let found = search(&app, &tenant.key, "充电桩一直充不上电怎么办").await;
    assert_eq!(found[0]["id"], charging["id"], "{found:?}");
    assert_eq!(
        found.len(),
        1,
        "only the Chinese charging article: {found:?}"
    );
    assert!(found[0]["excerpt"].as_str().unwrap().contains("充电"));
    // A full-width query is folded like the stored text.
    let wide = search(&app, &tenant.key, "ＣＨＡＲＧＩＮＧ").await;
    assert_eq!(wide.len(), 1, "{wide:?}");
}

#[tokio::test]
async fn a_query_with_no_searchable_words_is_a_400() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb-q").await;
    for query in ["", "%20%3F%21", "the", "%25%25%20__"] {
        let reply = app
            .get(&tenant.key, &format!("{ARTICLES}?q={query}"))
            .await
            .expect_error(400);
        assert!(
            reply.error_message().contains("no words to search for"),
            "{reply:?}"
        );
    }
    let reply = app
        .get(&tenant.key, &format!("{ARTICLES}?q=brake&cursor=abc"))
        .await
        .expect_error(400);
    assert!(reply.error_message().contains("cursor"), "{reply:?}");
}

#[tokio::test]
async fn the_public_page_shows_published_articles_escaped_and_hides_drafts() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb-page").await;
    let shown = article(
        &app,
        &tenant,
        json!({ "title": "刹车异响 <script>alert(1)</script>", "body": "第一段 & \"引号\"\n第二行\n\n<img src=x onerror=alert(2)>", "tags": ["<b>刹车</b>"], "status": "published" }),
    )
    .await;
    let draft = article(
        &app,
        &tenant,
        json!({ "title": "草稿 Draft", "body": "not yet" }),
    )
    .await;

    let page = app
        .get_anonymous(&public_path(&shown["url"]))
        .await
        .expect(200);
    let page = html(&page);
    assert!(
        page.contains("<h1>刹车异响 &lt;script&gt;alert(1)&lt;/script&gt;</h1>"),
        "{page}"
    );
    assert!(page.contains("第一段 &amp; &quot;引号&quot;<br>"), "{page}");
    assert!(
        page.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{page}"
    );
    assert!(page.contains("&lt;b&gt;刹车&lt;/b&gt;"), "{page}");
    assert!(
        !page.contains("<script>") && !page.contains("<img"),
        "{page}"
    );

    app.get_anonymous(&public_path(&draft["url"]))
        .await
        .expect(404);
    app.get_anonymous("/kb/no-such-article").await.expect(404);

    // Unpublishing takes the page down.
    let id = shown["id"].as_str().unwrap();
    app.patch(
        &tenant.key,
        &format!("{ARTICLES}/{id}"),
        &json!({ "status": "draft" }),
    )
    .await
    .expect(200);
    app.get_anonymous(&public_path(&shown["url"]))
        .await
        .expect(404);
}

#[tokio::test]
async fn a_new_ticket_is_answered_with_the_real_article_whose_link_serves_it() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb-reply").await;
    let brakes = article(
        &app,
        &tenant,
        json!({ "title": "刹车踏板发软怎么办", "body": "踏板发软时请立即靠边停车，不要继续驾驶，并联系救援。", "category": "brakes", "tags": ["刹车", "safety"], "status": "published" }),
    )
    .await;
    published(
        &app,
        &tenant,
        "CarPlay disconnects",
        "Update the head unit.",
    )
    .await;
    install_kb_autoreply(&app, &tenant).await;
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "张伟", "phone": "+8613912345601", "email": "zhang.wei@example.cn" }),
        )
        .await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "subject": "刹车踏板发软", "description": "高速上踩刹车感觉踏板很软", "customer_id": customer["id"] }),
        )
        .await;

    assert_eq!(tags(&ticket), ["faq-answered"]);
    let replies = replies(&app, &tenant, &ticket).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    let reply = &replies[0]["data"];
    assert_eq!(reply["link"], brakes["url"]);
    let body = reply["body"].as_str().unwrap();
    assert!(body.starts_with("刹车踏板发软怎么办\n"), "{body}");
    assert!(body.contains("靠边停车"), "{body}");
    let notifications = ticket["notifications"].as_array().unwrap();
    assert!(
        notifications[0]["body"]
            .as_str()
            .unwrap()
            .contains(brakes["url"].as_str().unwrap()),
        "{notifications:?}"
    );

    let page = app
        .get_anonymous(&public_path(&reply["link"]))
        .await
        .expect(200);
    assert!(
        html(&page).contains("<h1>刹车踏板发软怎么办</h1>"),
        "{}",
        html(&page)
    );

    let english = app
        .ticket(
            &tenant,
            json!({ "subject": "Apple CarPlay keeps disconnecting", "description": "Every few minutes since the update.", "customer_id": customer["id"] }),
        )
        .await;
    let replies = self::replies(&app, &tenant, &english).await;
    assert!(
        replies[0]["data"]["body"]
            .as_str()
            .unwrap()
            .starts_with("CarPlay disconnects"),
        "{replies:?}"
    );
}

#[tokio::test]
async fn a_customer_is_not_answered_with_an_article_that_shares_a_single_word() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb-weak").await;
    let brakes = published(
        &app,
        &tenant,
        "刹车异响或踏板发软怎么办",
        "踏板发软时请立即靠边停车，不要继续驾驶。",
    )
    .await;
    install_kb_autoreply(&app, &tenant).await;

    let door = app
        .ticket(
            &tenant,
            json!({ "subject": "车门异响", "description": "关门时有异响" }),
        )
        .await;
    assert!(tags(&door).is_empty(), "{door}");
    assert!(replies(&app, &tenant, &door).await.is_empty());
    // An agent searching the same words still sees the article.
    assert_eq!(
        search(&app, &tenant.key, "车门异响").await[0]["id"],
        brakes["id"]
    );

    let pedal = app
        .ticket(
            &tenant,
            json!({ "subject": "刹车踏板发软", "description": "踩刹车时踏板发软" }),
        )
        .await;
    assert_eq!(tags(&pedal), ["faq-answered"]);
}

#[tokio::test]
async fn drafts_are_never_offered_to_plugins_or_customers() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb-draft").await;
    let draft = article(
        &app,
        &tenant,
        json!({ "title": "冬季续航下降", "body": "低温会降低续航。" }),
    )
    .await;
    install_kb_autoreply(&app, &tenant).await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "subject": "冬季续航下降很多", "description": "冬天续航只有夏天一半" }),
        )
        .await;

    assert!(tags(&ticket).is_empty(), "{ticket}");
    assert!(replies(&app, &tenant, &ticket).await.is_empty());
    app.get_anonymous(&public_path(&draft["url"]))
        .await
        .expect(404);
    // Agents still find the draft.
    assert_eq!(
        search(&app, &tenant.key, "续航").await[0]["id"],
        draft["id"]
    );
}

#[tokio::test]
async fn another_tenant_cannot_read_search_or_be_answered_with_an_article() {
    let app = TestApp::spawn().await;
    let a = app.tenant("oem-kb-a").await;
    let b = app.tenant("oem-kb-b").await;
    let a_article = article(
        &app,
        &a,
        json!({ "title": "家用充电桩无法充电", "body": "请检查漏电保护开关。", "status": "published" }),
    )
    .await;
    let id = a_article["id"].as_str().unwrap();
    install_kb_autoreply(&app, &a).await;
    install_kb_autoreply(&app, &b).await;

    app.get(&b.key, &format!("{ARTICLES}/{id}"))
        .await
        .expect(404);
    app.patch(
        &b.key,
        &format!("{ARTICLES}/{id}"),
        &json!({ "title": "mine" }),
    )
    .await
    .expect(404);
    app.delete(&b.key, &format!("{ARTICLES}/{id}"))
        .await
        .expect(404);
    assert!(ids(&app.get(&b.key, ARTICLES).await.expect(200)).is_empty());
    assert!(search(&app, &b.key, "充电桩").await.is_empty());

    let question = json!({ "subject": "充电桩无法充电", "description": "指示灯闪红" });
    let in_b = app.ticket(&b, question.clone()).await;
    assert!(tags(&in_b).is_empty(), "{in_b}");
    assert!(replies(&app, &b, &in_b).await.is_empty());
    let in_a = app.ticket(&a, question).await;
    assert_eq!(tags(&in_a), ["faq-answered"]);
    assert_eq!(
        replies(&app, &a, &in_a).await[0]["data"]["link"],
        a_article["url"]
    );

    let kept = app
        .get(&a.key, &format!("{ARTICLES}/{id}"))
        .await
        .expect(200);
    assert_eq!(kept["title"], "家用充电桩无法充电");
}

#[tokio::test]
async fn without_the_records_grant_entries_still_answer_and_the_step_does_not_fail() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kb-nogrant").await;
    published(&app, &tenant, "车门异响", "检查门铰链润滑。").await;
    let installation = app
        .install(
            &tenant,
            &FAQ_AUTOREPLY,
            json!({ "entries": [{ "keywords": ["保养"], "answer": "在 App 中预约保养。" }] }),
            &[],
        )
        .await;

    let matched = app
        .ticket(
            &tenant,
            json!({ "subject": "预约保养", "description": "周六上午可以吗" }),
        )
        .await;
    assert_eq!(tags(&matched), ["faq-answered"]);
    let unmatched = app
        .ticket(
            &tenant,
            json!({ "subject": "车门异响", "description": "左后门有异响" }),
        )
        .await;
    assert!(tags(&unmatched).is_empty());

    let installation_id = installation["id"].as_str().unwrap();
    let audited = app
        .get(
            &tenant.key,
            &format!("/api/v1/installations/{installation_id}/invocations"),
        )
        .await
        .expect(200);
    let outcomes: Vec<&str> = audited["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["ok", "ok"], "{audited}");
}
