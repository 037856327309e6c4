using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Quiz.Web.Tests.Infrastructure;

/// <summary>
/// axe-core run in the page as it stands (issue 14, point 10): a page state passes when axe finds no
/// critical and no serious violation. Called by the browser tests on every page state they visit,
/// so a new state is checked as soon as a test reaches it.
/// </summary>
public static class Axe
{
    private static readonly HashSet<string> Failing = ["critical", "serious"];

    /// <summary>Fails with every critical or serious violation, its rule, its help text and the elements it names.</summary>
    public static async Task AssertAccessibleAsync(IPage page, string state)
    {
        var result = await page.RunAxe(new AxeRunOptions
        {
            // WCAG 2.1 A and AA and axe's best practices: what the audit ran.
            RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
        });
        var failing = result.Violations.Where(v => v.Impact is { } impact && Failing.Contains(impact)).ToList();
        Assert.True(failing.Count == 0, $"axe-core on '{state}': {failing.Count} critical or serious violation(s):\n" + string.Join("\n", failing.Select(Describe)));
    }

    private static string Describe(AxeResultItem v) =>
        $"- {v.Impact} {v.Id}: {v.Help} ({v.HelpUrl})\n" + string.Join("\n", v.Nodes.Take(5).Select(n => $"    {n.Target} {n.Html}"));
}
