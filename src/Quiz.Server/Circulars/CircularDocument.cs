using System.Globalization;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using Quiz.Server.Hosting;
using A = DocumentFormat.OpenXml.Drawing;
using DW = DocumentFormat.OpenXml.Drawing.Wordprocessing;
using PIC = DocumentFormat.OpenXml.Drawing.Pictures;

namespace Quiz.Server.Circulars;

/// <summary>
/// A circular as the files officers receive: a DOCX in the shape of an official circular (通报),
/// which they edit before it goes out, and its XLSX annex with the whole table. The layout follows
/// the common government format (GB/T 9704): A4, a centred title in a song-style face, headings
/// in 黑体 numbered 一、二、, body in 仿宋; fonts a machine lacks fall back to what it has.
/// </summary>
public static class CircularDocument
{
    public const string DocxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

    /// <summary>The headings, in order: tests and editors find the sections by them.</summary>
    public static readonly string[] Headings = ["一、总体情况", "二、各地参与情况", "三、参与趋势", "四、薄弱知识点", "五、下一步工作要求"];
    /// <summary>With a survey on the campaign, what people asked for comes before the work ahead.</summary>
    public static readonly string[] HeadingsWithSurvey = ["一、总体情况", "二、各地参与情况", "三、参与趋势", "四、薄弱知识点", "五、群众需求（问卷调查）", "六、下一步工作要求"];

    public static string Title(CircularService.Circular c) => $"关于{c.Campaign.Name}活动参与情况的通报";

    public static string Period(DateOnly from, DateOnly to) =>
        from == to ? Date(from) : from.Year == to.Year ? $"{Date(from)}至{to.Month}月{to.Day}日" : $"{Date(from)}至{Date(to)}";

    private static string Date(DateOnly day) => $"{day.Year}年{day.Month}月{day.Day}日";

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
    public static string Number(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);
    public static string Change(long value) => value > 0 ? "+" + Number(value) : Number(value);
    public static string Change(decimal value) => value > 0 ? "+" + Number(value) : Number(value);

    /// <summary>A rate per 10,000 as the dashboard shows it: two decimals, and "&lt;0.01" for a few people in a large base rather than a 0.00 that reads as nobody.</summary>
    public static string Rate(CircularService.UnitFigures f) => Rate(f.ExactPerTenThousand, f.PerTenThousand);
    public static string PreviousRate(CircularService.UnitFigures f) => Rate(f.ExactPreviousPerTenThousand, f.PreviousPerTenThousand);
    private static string Rate(double exact, decimal shown) => exact is > 0 and < 0.01 ? "<0.01" : Number(shown);

    /// <summary>The change of the rate since the previous period's end, from the exact rates (a difference of rounded ones can show 0.00 for a real gain).</summary>
    public static string RateChange(CircularService.UnitFigures f) => f.ExactChangePerTenThousand switch
    {
        > 0 and < 0.01 => "+<0.01",
        < 0 and > -0.01 => "-<0.01",
        _ => Change(f.ChangePerTenThousand),
    };

    // Page: A4 with the format's margins (top 3.7 cm, bottom 3.5 cm, left 2.8 cm, right 2.6 cm).
    private const int PageWidth = 11906, PageHeight = 16838, MarginTop = 2098, MarginBottom = 1984, MarginLeft = 1588, MarginRight = 1474;
    private const int TextWidth = PageWidth - MarginLeft - MarginRight; // twips
    private const long EmuPerTwip = 635;

    public static byte[] Docx(CircularService.Circular c)
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            document.PackageProperties.Title = Title(c);
            document.PackageProperties.Creator = "Quiz";
            var main = document.AddMainDocumentPart();
            main.AddNewPart<StyleDefinitionsPart>().Styles = Styles();
            var chart = main.AddImagePart(ImagePartType.Png);
            using (var png = new MemoryStream(TrendChart.Png(c.Trend))) chart.FeedData(png);

            var body = new Body();
            body.Append(Styled("Title", Title(c)));
            body.Append(Centred($"（{Period(c.From, c.To)}）"));
            body.Append(Plain($"各{ChildrenCalled(c)}："));
            body.Append(Body($"现将{Period(c.From, c.To)}（以下简称本期）{c.Unit.Name}{c.Campaign.Name}活动参与情况通报如下。"));

            body.Append(Styled("Heading1", Headings[0]));
            body.Append(Body(Overview(c)));
            body.Append(TotalsTable(c));

            body.Append(Styled("Heading1", Headings[1]));
            body.Append(Body(Standings(c)));
            body.Append(RankingTable(c));

            body.Append(Styled("Heading1", Headings[2]));
            body.Append(new Paragraph(Centre(), new Run(Picture(main.GetIdOfPart(chart), TextWidth * EmuPerTwip, TextWidth * EmuPerTwip * TrendChart.Height / TrendChart.Width))));
            body.Append(Caption(c.HasPrevious
                ? "图：每日答题次数（柱，灰色为上期、蓝色为本期）与每日参与人数（红色折线）"
                : "图：每日答题次数（蓝色柱）与每日参与人数（红色折线）"));

            body.Append(Styled("Heading1", Headings[3]));
            body.Append(Body(Weakness(c)));
            if (c.WeakCategories.Count > 0) body.Append(CategoryTable(c));

            if (c.Survey is { } survey)
            {
                body.Append(Styled("Heading1", HeadingsWithSurvey[4]));
                body.Append(Body(Asked(c, survey)));
                foreach (var q in survey.Questions.Where(q => q.Kind != Campaigns.SurveyQuestionKind.Text && survey.Respondents > 0))
                {
                    body.Append(Caption(q.Text));
                    body.Append(SurveyTable(survey, q));
                }
            }
            body.Append(Styled("Heading1", (c.Survey is null ? Headings : HeadingsWithSurvey)[^1]));
            body.Append(Body("请各地对照本通报，总结经验、查找不足：参与率靠后的单位要加大组织动员力度，" +
                             "宣传内容向薄弱知识点倾斜，进一步扩大活动覆盖面和影响力。"));
            body.Append(Body($"附件：{c.Unit.Name}{Period(c.From, c.To)}参与情况明细表"));
            body.Append(Right(c.Unit.Name));
            body.Append(Right(Date(c.IssuedOn)));

            body.Append(new SectionProperties(
                new PageSize { Width = PageWidth, Height = PageHeight },
                new PageMargin { Top = MarginTop, Bottom = MarginBottom, Left = MarginLeft, Right = MarginRight, Header = 851, Footer = 992, Gutter = 0 }));
            main.Document = new Document(body);
            main.Document.Save();
        }
        return stream.ToArray();
    }

    private static string ChildrenCalled(CircularService.Circular c) =>
        c.Unit.Depth == 1 ? "市" : c.Unit.Depth == 2 ? "县（市、区）" : "有关单位";

    private static string Overview(CircularService.Circular c)
    {
        var t = c.Totals;
        var text = $"截至{Date(c.To)}，{c.Unit.Name}累计参与{Number(t.Participants)}人，参与率为每万人{Rate(t)}人；" +
                   $"本期新增参与{Number(t.NewParticipants)}人，答题{Number(t.Rounds)}次";
        if (!c.HasPrevious) return text + "。上期（活动开始前）无可比数据。";
        return text + $"，较上期（{Period(c.PreviousFrom, c.PreviousTo)}）新增参与人数{Trend(t.NewParticipants - t.PreviousNewParticipants, "人")}，" +
               $"答题次数{Trend(t.Rounds - t.PreviousRounds, "次")}。";
    }

    private static string Trend(long change, string unit) =>
        change > 0 ? $"增加{Number(change)}{unit}" : change < 0 ? $"减少{Number(-change)}{unit}" : "持平";

    /// <summary>The leading and lagging children named, as circulars praise and criticise units by name.</summary>
    private static string Standings(CircularService.Circular c)
    {
        var ranked = c.Children;
        if (ranked.Count == 0) return $"{c.Unit.Name}下无下级单位。";
        if (ranked.Count == 1) return $"{Named(ranked[0])}为{c.Unit.Name}唯一下级单位。";
        var k = Math.Min(3, ranked.Count / 2);
        var text = $"按参与率排名，位居前列的是{string.Join("、", ranked.Take(k).Select(Named))}；" +
                   $"排名靠后的是{string.Join("、", ranked.TakeLast(k).Select(Named))}。";
        var idle = ranked.Where(r => r.Figures.Participants == 0).Select(r => r.Figures.Name).ToList();
        return idle.Count > 0 ? text + $"截至本期末，{string.Join("、", idle)}尚无人参与。" : text;
    }

    private static string Named(CircularService.RankedUnit r) => $"{r.Figures.Name}（每万人{Rate(r.Figures)}人）";

    private static string Weakness(CircularService.Circular c)
    {
        if (c.WeakCategories.Count == 0) return "本期尚无作答记录。";
        var named = c.WeakCategories.Select(w => $"{CircularService.CategoryName(w.Category)}（正确率{w.RightRate.ToString("0.0", CultureInfo.InvariantCulture)}%）");
        return $"本期{c.Unit.Name}参与者答错较多的知识类别为{string.Join("、", named)}，建议作为下一阶段宣传教育的重点。";
    }

    /// <summary>The survey in words: how many answered, and each choice question's most chosen option.</summary>
    private static string Asked(CircularService.Circular c, CircularService.SurveyCounts survey)
    {
        if (survey.Respondents == 0) return $"截至{Date(c.To)}，{c.Unit.Name}尚无人填写“{survey.Title}”问卷。";
        var text = $"截至{Date(c.To)}，{c.Unit.Name}共有{Number(survey.Respondents)}人填写“{survey.Title}”问卷。";
        var firsts = survey.Questions.Where(q => q.Kind != Campaigns.SurveyQuestionKind.Text && q.Options.Any(o => o.Count > 0))
            .Select(q => $"“{q.Text}”选择最多的是{q.Options.MaxBy(o => o.Count)!.Text}（{Number(q.Options.Max(o => o.Count))}人）").ToList();
        return firsts.Count == 0 ? text : text + string.Join("；", firsts) + "。宣传内容和形式可据此安排。";
    }

    // ---- tables -----------------------------------------------------------------------------

    public static readonly string[] SurveyHeader = ["选项", "选择人数", "占填写人数（%）"];

    private static Table SurveyTable(CircularService.SurveyCounts survey, CircularService.SurveyQuestionCounts q) =>
        Table(SurveyHeader, q.Options.Select(o => new[]
        {
            o.Text, Number(o.Count), (100m * o.Count / survey.Respondents).ToString("0.0", CultureInfo.InvariantCulture),
        }).ToList(), [5, 3, 3]);

    public static readonly string[] TotalsHeader = ["指标", "本期", "上期", "增减"];

    private static Table TotalsTable(CircularService.Circular c)
    {
        var t = c.Totals;
        List<string[]> rows =
        [
            Row("累计参与人数", t.Participants, t.PreviousParticipants),
            Row("新增参与人数", t.NewParticipants, t.PreviousNewParticipants),
            Row("答题次数", t.Rounds, t.PreviousRounds),
            ["参与率（每万人）", Rate(t), PreviousRate(t), RateChange(t)],
            ["平均分", Number(t.AveragePoints), Number(t.PreviousAveragePoints), Change(t.AveragePoints - t.PreviousAveragePoints)],
        ];
        return Table(TotalsHeader, rows, [3, 2, 2, 2]);

        static string[] Row(string name, long now, long before) => [name, Number(now), Number(before), Change(now - before)];
    }

    public static readonly string[] RankingHeader = ["排名", "单位", "累计参与人数", "参与率（每万人）", "较上期", "新增参与人数", "答题次数", "平均分"];

    private static Table RankingTable(CircularService.Circular c) =>
        Table(RankingHeader, c.Children.Select(r => new[]
        {
            Number(r.Rank), r.Figures.Name, Number(r.Figures.Participants), Rate(r.Figures),
            RateChange(r.Figures), Number(r.Figures.NewParticipants),
            Number(r.Figures.Rounds), Number(r.Figures.AveragePoints),
        }).ToList(), [2, 4, 3, 3, 3, 3, 3, 3]);

    public static readonly string[] CategoryHeader = ["知识类别", "作答题数", "答对题数", "正确率（%）"];

    private static Table CategoryTable(CircularService.Circular c) =>
        Table(CategoryHeader, c.WeakCategories.Select(w => new[]
        {
            CircularService.CategoryName(w.Category), Number(w.Answered), Number(w.Correct), w.RightRate.ToString("0.0", CultureInfo.InvariantCulture),
        }).ToList(), [4, 3, 3, 3]);

    private static Table Table(string[] header, IReadOnlyList<string[]> rows, int[] weights)
    {
        var widths = weights.Select(w => TextWidth * w / weights.Sum()).ToArray();
        var table = new Table(
            new TableProperties(
                new TableWidth { Width = TextWidth.ToString(CultureInfo.InvariantCulture), Type = TableWidthUnitValues.Dxa },
                new TableJustification { Val = TableRowAlignmentValues.Center },
                new TableBorders(Line<TopBorder>(), Line<LeftBorder>(), Line<BottomBorder>(), Line<RightBorder>(), Line<InsideHorizontalBorder>(), Line<InsideVerticalBorder>()),
                new TableLayout { Type = TableLayoutValues.Fixed }),
            new TableGrid(widths.Select(w => new GridColumn { Width = w.ToString(CultureInfo.InvariantCulture) })));
        table.Append(TableRow(header, widths, heading: true));
        foreach (var row in rows) table.Append(TableRow(row, widths, heading: false));
        return table;
    }

    private static T Line<T>() where T : BorderType, new() => new() { Val = BorderValues.Single, Size = 4U, Space = 0U, Color = "000000" };

    private static TableRow TableRow(string[] cells, int[] widths, bool heading)
    {
        var row = new TableRow();
        // A header row repeats on every page a long table runs over.
        if (heading) row.Append(new TableRowProperties(new TableHeader()));
        for (var i = 0; i < cells.Length; i++)
        {
            var properties = new TableCellProperties(new TableCellWidth { Width = widths[i].ToString(CultureInfo.InvariantCulture), Type = TableWidthUnitValues.Dxa });
            if (heading) properties.Append(new Shading { Val = ShadingPatternValues.Clear, Color = "auto", Fill = "E7E6E6" });
            properties.Append(new TableCellVerticalAlignment { Val = TableVerticalAlignmentValues.Center });
            var run = new Run(new Text(cells[i]) { Space = SpaceProcessingModeValues.Preserve });
            if (heading) run.PrependChild(new RunProperties(new Bold()));
            row.Append(new TableCell(properties, new Paragraph(new ParagraphProperties(new ParagraphStyleId { Val = "TableText" }), run)));
        }
        return row;
    }

    // ---- paragraphs and styles --------------------------------------------------------------

    private static Paragraph Styled(string style, string text) =>
        new(new ParagraphProperties(new ParagraphStyleId { Val = style }), TextRun(text));

    private static Paragraph Plain(string text) => new(TextRun(text));

    /// <summary>Body text: first line indented two characters, as Chinese documents are set.</summary>
    private static Paragraph Body(string text) =>
        new(new ParagraphProperties(new Indentation { FirstLineChars = 200 }), TextRun(text));

    private static Paragraph Centred(string text) => new(Centre(), TextRun(text));

    private static Paragraph Caption(string text) =>
        new(new ParagraphProperties(new ParagraphStyleId { Val = "Caption" }, new Justification { Val = JustificationValues.Center }), TextRun(text));

    private static Paragraph Right(string text) =>
        new(new ParagraphProperties(new Justification { Val = JustificationValues.Right }), TextRun(text));

    private static ParagraphProperties Centre() => new(new Justification { Val = JustificationValues.Center });

    private static Run TextRun(string text) => new(new Text(text) { Space = SpaceProcessingModeValues.Preserve });

    private static Styles Styles()
    {
        static RunFonts Fonts(string face) => new() { Ascii = "Times New Roman", HighAnsi = "Times New Roman", EastAsia = face };
        static Style Paragraph(string id, string name, bool primary, ParagraphProperties? paragraph, RunProperties run, string? basedOn = "Normal")
        {
            var style = new Style { Type = StyleValues.Paragraph, StyleId = id };
            style.Append(new StyleName { Val = name });
            if (basedOn is not null) style.Append(new BasedOn { Val = basedOn });
            if (id != "Normal") style.Append(new NextParagraphStyle { Val = "Normal" });
            if (primary) style.Append(new PrimaryStyle());
            if (paragraph is not null) style.Append(new StyleParagraphProperties(paragraph.ChildElements.Select(e => e.CloneNode(true))));
            style.Append(new StyleRunProperties(run.ChildElements.Select(e => e.CloneNode(true))));
            return style;
        }

        return new Styles(
            new DocDefaults(
                new RunPropertiesDefault(new RunPropertiesBaseStyle(Fonts("仿宋_GB2312"), new FontSize { Val = "32" }, new FontSizeComplexScript { Val = "32" },
                    new Languages { Val = "en-US", EastAsia = "zh-CN" })),
                new ParagraphPropertiesDefault(new ParagraphPropertiesBaseStyle(new SpacingBetweenLines { Line = "560", LineRule = LineSpacingRuleValues.Exact }))),
            Paragraph("Normal", "Normal", true, null, new RunProperties(), basedOn: null).With(s => s.Default = true),
            Paragraph("Title", "Title", true,
                new ParagraphProperties(new SpacingBetweenLines { Before = "0", After = "240", Line = "700", LineRule = LineSpacingRuleValues.Exact }, new Justification { Val = JustificationValues.Center }, new OutlineLevel { Val = 0 }),
                new RunProperties(Fonts("方正小标宋简体"), new FontSize { Val = "44" }, new FontSizeComplexScript { Val = "44" })),
            Paragraph("Heading1", "heading 1", true,
                new ParagraphProperties(new KeepNext(), new SpacingBetweenLines { Before = "120", After = "0" }, new Indentation { FirstLineChars = 200 }, new OutlineLevel { Val = 0 }),
                new RunProperties(Fonts("黑体"))),
            Paragraph("Caption", "caption", true, null, new RunProperties(Fonts("楷体_GB2312"), new FontSize { Val = "24" }, new FontSizeComplexScript { Val = "24" })),
            Paragraph("TableText", "Table Text", false,
                new ParagraphProperties(new SpacingBetweenLines { Line = "320", LineRule = LineSpacingRuleValues.Exact }, new Justification { Val = JustificationValues.Center }),
                new RunProperties(new FontSize { Val = "21" }, new FontSizeComplexScript { Val = "21" })));
    }

    private static T With<T>(this T element, Action<T> change)
    {
        change(element);
        return element;
    }

    private static Drawing Picture(string relationshipId, long cx, long cy) =>
        new(new DW.Inline(
            new DW.Extent { Cx = cx, Cy = cy },
            new DW.EffectExtent { LeftEdge = 0L, TopEdge = 0L, RightEdge = 0L, BottomEdge = 0L },
            new DW.DocProperties { Id = 1U, Name = "趋势图", Description = "每日答题次数与参与人数" },
            new DW.NonVisualGraphicFrameDrawingProperties(new A.GraphicFrameLocks { NoChangeAspect = true }),
            new A.Graphic(new A.GraphicData(
                new PIC.Picture(
                    new PIC.NonVisualPictureProperties(new PIC.NonVisualDrawingProperties { Id = 0U, Name = "trend.png" }, new PIC.NonVisualPictureDrawingProperties()),
                    new PIC.BlipFill(new A.Blip { Embed = relationshipId }, new A.Stretch(new A.FillRectangle())),
                    new PIC.ShapeProperties(
                        new A.Transform2D(new A.Offset { X = 0L, Y = 0L }, new A.Extents { Cx = cx, Cy = cy }),
                        new A.PresetGeometry(new A.AdjustValueList()) { Preset = A.ShapeTypeValues.Rectangle })))
            { Uri = "http://schemas.openxmlformats.org/drawingml/2006/picture" }))
        { DistanceFromTop = 0U, DistanceFromBottom = 0U, DistanceFromLeft = 0U, DistanceFromRight = 0U });

    // ---- the annex --------------------------------------------------------------------------

    public static readonly string[] AnnexHeader =
    [
        "排名", "上期排名", "单位代码", "单位", "基数", "累计参与人数", "上期末累计参与人数", "参与率（每万人）", "上期末参与率（每万人）", "参与率增减",
        "新增参与人数", "上期新增参与人数", "答题次数", "上期答题次数", "答题次数增减", "累计总分", "平均分",
    ];

    /// <summary>The full table: every child with every figure of both periods, numbers as numbers.</summary>
    public static byte[] Xlsx(CircularService.Circular c) =>
        Spreadsheets.Xlsx(AnnexHeader, c.Children.Select(r => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["排名"] = r.Rank, ["上期排名"] = r.PreviousRank, ["单位代码"] = r.Figures.Code, ["单位"] = r.Figures.Name, ["基数"] = r.Figures.Headcount,
            ["累计参与人数"] = r.Figures.Participants, ["上期末累计参与人数"] = r.Figures.PreviousParticipants,
            ["参与率（每万人）"] = r.Figures.PerTenThousand, ["上期末参与率（每万人）"] = r.Figures.PreviousPerTenThousand,
            ["参与率增减"] = r.Figures.ChangePerTenThousand,
            ["新增参与人数"] = r.Figures.NewParticipants, ["上期新增参与人数"] = r.Figures.PreviousNewParticipants,
            ["答题次数"] = r.Figures.Rounds, ["上期答题次数"] = r.Figures.PreviousRounds, ["答题次数增减"] = r.Figures.Rounds - r.Figures.PreviousRounds,
            ["累计总分"] = r.Figures.Points, ["平均分"] = r.Figures.AveragePoints,
        }));
}
