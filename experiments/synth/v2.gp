# V2: the period-averaged smoothness Lbar(P) for mix(lambda), one block per lambda.
set terminal pngcairo size 1100,480 noenhanced
set output out
set multiplot layout 1,2 title "V2: period averages at the run's step sizes (P = inf drawn at 300)"
set logscale x
set logscale y
set xtics ("1" 1, "2" 2, "5" 5, "10" 10, "20" 20, "50" 50, "100" 100, "inf" 300)
set xlabel "period P"
set grid
set key bottom right font ",8"
set ylabel "Lbar(P) (refined: solid; statement: dashed)"
stats data using 1 nooutput
nb = STATS_blocks - 1  # the trailing blank lines count as a block
plot for [i=0:nb-1] data index i using 1:2:3 with yerrorlines lw 2 lc i+1 title sprintf("lambda %s refined", word(lams, i+1)), \
     for [i=0:nb-1] data index i using 1:4 with lines dt 2 lc i+1 notitle
set ylabel "Sbar(P)"
plot data index 0 using 1:6:7 with yerrorlines lw 2 title "Sbar (same for every lambda)"
unset multiplot
