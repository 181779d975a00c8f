using System.Diagnostics;
using Fim.Manager.Telemetry;
using Microsoft.AspNetCore.Components;

namespace Fim.Manager.WebConsole;

/// <summary>
/// What every console page is (Pages/_Imports.razor): a component whose server time is measured, from its parameters
/// being set (a navigation, a changed filter) to the end of the render that shows what it loaded, into
/// fim_console_page_seconds{page}. The store's queries, the services and the render all count; the network and the
/// browser do not.
/// </summary>
public abstract class ConsolePage : ComponentBase
{
    [Inject]
    private ManagerMetrics Metrics { get; set; } = null!;

    public override async Task SetParametersAsync(ParameterView parameters)
    {
        var started = Stopwatch.GetTimestamp();
        // Completes after OnInitializedAsync and OnParametersSetAsync and the StateHasChanged that follows them, which
        // renders at once when no other render is in progress (the case once a page's awaited query returns).
        await base.SetParametersAsync(parameters);
        Metrics.ConsolePageSeconds.WithLabels(GetType().Name).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
