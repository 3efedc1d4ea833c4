# V4: compute to reach eps against P, normalised by each curve's minimum.
set terminal pngcairo size 1100,520 noenhanced
set output out
set logscale x
set logscale y
set xtics ("1" 1, "2" 2, "3" 3, "5" 5, "10" 10, "20" 20, "50" 50, "100" 100, "inf" 300)
set xlabel "period P"
set ylabel "compute / minimum compute"
set title "V4: empirical (points, 95% t interval) and predicted (lines) compute; dashed: statement version"
set grid
set key outside right font ",9"
stats data using 1 nooutput
nb = STATS_blocks - 1  # the trailing blank lines count as a block
plot for [i=0:nb-1] data index i using 1:2:3 with yerrorbars pt 7 lc i+1 title sprintf("lambda %s empirical", word(lams, i+1)), \
     for [i=0:nb-1] data index i using 1:4 with lines lw 2 lc i+1 title sprintf("lambda %s predicted", word(lams, i+1)), \
     for [i=0:nb-1] data index i using 1:5 with lines dt 2 lc i+1 notitle
